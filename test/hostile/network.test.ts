import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { stagedState } from '../support/hostile.js';

/*
 * Oversized bodies, lying Content-Length and slow clients, over a real socket: every request ends with
 * an answer (413, 400 or 408) and a closed or reusable connection, never a hang, and nothing is staged.
 */
const ctx = useTestContext({ REQUEST_TIMEOUT_SECONDS: '2', IMPORT_MAX_BYTES: '200000' });
let ws: { workspaceId: string; token: string };
let port: number;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  port = (ctx.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await ctx.app.close();
});

interface Exchange {
  /** Everything the server sent before it closed the connection (or the wait ran out). */
  text: string;
  closed: boolean;
}

/**
 * Writes `parts` with `gapMs` between them, then reads until the server closes the socket or
 * `waitMs` passes (the bound that detects a hang; the server's own limit is 2 s).
 */
function exchange(parts: (string | Buffer)[], gapMs = 0, waitMs = 15_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (done || socket.destroyed) return;
          socket.write(part);
          if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        }
      })();
    });
  });
}

const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): any => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)); // JSON under test

const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe('slow clients', () => {
  it('answers 408 and closes an upload that stops sending, staging nothing', async () => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    const res = await exchange([
      head('POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'content-length': 100_000,
      }),
      'email,name\na@example.com,A\n',
    ]);
    expect(res.closed).toBe(true);
    expect(statusOf(res.text)).toBe(408);
    // In the JSON envelope, with its request id, like every other answer.
    const body = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; requestId: string };
    };
    expect(body.error.code).toBe('request_timeout');
    expect(res.text).toContain(`x-request-id: ${body.error.requestId}`);
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });

  it('answers 408 to an upload trickled a byte at a time past the limit', async () => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    const body = 'email,name\n' + 'a@example.com,A\n'.repeat(20);
    const res = await exchange(
      [
        head('POST', '/v1/imports', {
          authorization: `Bearer ${ws.token}`,
          'content-type': 'text/csv',
          'content-length': body.length,
        }),
        ...body.split(''),
      ],
      100,
    );
    expect(res.closed).toBe(true);
    expect(statusOf(res.text)).toBe(408);
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });

  it('closes a connection whose headers never end', async () => {
    const res = await exchange(['POST /v1/imports HTTP/1.1\r\nHost: localhost\r\n', 'x-slow: 1\r\n'], 500);
    expect(res.closed).toBe(true);
  });

  it('answers 408 to a SCIM PATCH whose JSON body stalls', async () => {
    const res = await exchange([
      head('PATCH', '/scim/v2/Users/00000000-0000-7000-8000-000000000000', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'application/scim+json',
        'content-length': 500,
      }),
      '{"schemas":[',
    ]);
    expect(res.closed).toBe(true);
    expect(statusOf(res.text)).toBe(408);
  });

  it('still serves an upload that finishes within the limit, sent in pieces', async () => {
    const body = 'email,name\nslow@example.com,Slow\n';
    const res = await exchange(
      [
        head('POST', '/v1/imports', {
          authorization: `Bearer ${ws.token}`,
          'content-type': 'text/csv',
          'content-length': body.length,
          connection: 'close',
        }),
        body.slice(0, 10),
        body.slice(10),
      ],
      300,
    );
    expect(statusOf(res.text)).toBe(202);
  });
});

describe('lying Content-Length', () => {
  it('answers 408 when Content-Length promises more than is sent', async () => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    const body = 'email,name\na@example.com,A\n';
    const res = await exchange([
      head('POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'content-length': body.length + 50,
      }),
      body,
    ]);
    expect(statusOf(res.text)).toBe(408);
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });

  it('reads only Content-Length bytes when it promises less, and refuses the rest as a bad request', async () => {
    const body = 'email,name\nshort@example.com,Short\n';
    const res = await exchange([
      head('POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'content-length': 11,
      }) + body,
    ]);
    // Node reads the rest as a second request, answers it 400 and closes the connection at once.
    const answers = [...res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(answers).toContain(400);
    expect(answers.every((s) => s === 400 || s === 202)).toBe(true);
    expect(res.closed).toBe(true);
  });

  it('answers 400 to a JSON body shorter than its Content-Length claims, sent whole', async () => {
    const res = await call(ctx.app, 'POST', '/v1/roles', {
      token: ws.token,
      body: '{"name":"x"}',
      headers: { 'content-type': 'application/json', 'content-length': '5' },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe('oversized bodies over a real socket', () => {
  const big = (n: number) => `{"name":"${'x'.repeat(n)}"}`;

  it.each([
    ['POST', '/v1/roles', 'application/json', 'payload_too_large'],
    ['POST', '/v1/users', 'application/json', 'payload_too_large'],
    ['PATCH', '/v1/settings', 'application/json', 'payload_too_large'],
  ])('answers 413 %s %s in the JSON envelope, not a reset', async (method, path, type, code) => {
    const body = big(1_100_000);
    const res = await exchange([
      head(method, path, {
        authorization: `Bearer ${ws.token}`,
        'content-type': type,
        'content-length': body.length,
      }),
      body,
    ]);
    expect(statusOf(res.text)).toBe(413);
    expect(bodyOf(res.text).error.code).toBe(code);
  });

  it.each([
    ['PATCH', '/scim/v2/Users/00000000-0000-7000-8000-000000000000'],
    ['POST', '/scim/v2/Users'],
    ['POST', '/scim/v2/Groups'],
    ['POST', '/scim/v2/Bulk'],
  ])('answers 413 %s %s in the SCIM envelope, not a reset', async (method, path) => {
    const body = big(2_200_000);
    const res = await exchange([
      head(method, path, {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'application/scim+json',
        'content-length': body.length,
      }),
      body,
    ]);
    expect(statusOf(res.text)).toBe(413);
    expect(bodyOf(res.text)).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '413',
    });
  });

  it('answers 413 to a chunked SCIM body that grows past the limit', async () => {
    const chunk = 'x'.repeat(500_000);
    const parts = [
      head('POST', '/scim/v2/Users', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'application/scim+json',
        'transfer-encoding': 'chunked',
      }),
      ...Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ];
    const res = await exchange(parts);
    expect(statusOf(res.text)).toBe(413);
    expect(bodyOf(res.text).schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('answers 413 file_too_large to an upload over IMPORT_MAX_BYTES, chunked', async () => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    const chunk = `${'email,name\n'}${'a@example.com,A\n'.repeat(4000)}`;
    const res = await exchange([
      head('POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'transfer-encoding': 'chunked',
      }),
      ...Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(statusOf(res.text)).toBe(413);
    expect(res.text).toMatch(/\r\nConnection: close\r\n/i); // the unread rest must not be taken for a request
    expect(res.closed).toBe(true);
    expect(bodyOf(res.text).error).toMatchObject({ code: 'file_too_large', limit: 200000 });
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });
});
