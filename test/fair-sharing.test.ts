import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDb } from '../src/db/index.js';
import { call, testConfig, useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload } from './support/imports.js';

/*
 * One tenant cannot hold what every tenant shares: the API's statements are cut at
 * API_STATEMENT_TIMEOUT_MS, and a workspace has at most MAX_CONCURRENT_UPLOADS uploads staging at once.
 */
const ctx = useTestContext({ MAX_CONCURRENT_UPLOADS: '2' });
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

describe('API_STATEMENT_TIMEOUT_MS', () => {
  it('makes Postgres cancel a longer statement of the pool', async () => {
    const db = createDb(ctx.config.databaseUrl, { max: 1, statementTimeoutMs: 100 });
    try {
      await expect(sql`select pg_sleep(2)`.execute(db)).rejects.toMatchObject({ code: '57014' });
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]!.one).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('answers a cancelled statement with 503 query_timeout and Retry-After, and the API pool has it', async () => {
    const app = await buildApp({
      config: testConfig(ctx.databaseName, { API_STATEMENT_TIMEOUT_MS: '100', RATE_LIMIT_PER_MINUTE: '0' }),
      logger: false,
    });
    apps.push(app);
    app.get('/v1/slow', { config: { public: true } }, async () => {
      await sql`select pg_sleep(2)`.execute(app.db);
      return {};
    });
    await app.ready();
    const res = await call(app, 'GET', '/v1/slow');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error.code).toBe('query_timeout');
  });
});

describe('concurrent uploads of one workspace', () => {
  let ws: { workspaceId: string; token: string };
  let other: { workspaceId: string; token: string };
  beforeAll(async () => {
    ws = await makeWorkspace(ctx.db);
    other = await makeWorkspace(ctx.db);
  });

  /** An upload whose body arrives only when `finish` is called. */
  function slowUpload(token: string) {
    const body = new PassThrough();
    body.write('email,name\n');
    const answer = ctx.app.inject({
      method: 'POST',
      url: '/v1/imports?dryRun=true',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      payload: body,
    });
    return {
      answer,
      finish: () => body.end('slow@example.com,Slow\n'),
    };
  }

  it('answers 429 too_many_uploads with Retry-After past two at once, and only for that workspace', async () => {
    const first = slowUpload(ws.token);
    const second = slowUpload(ws.token);
    await new Promise((r) => setTimeout(r, 200));
    const third = await upload(ctx.app, ws.token, 'email,name\nt@example.com,T\n', 'dryRun=true');
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'too_many_uploads', limit: 2 });
    expect(third.headers['retry-after']).toBe('5');

    const elsewhere = await upload(ctx.app, other.token, 'email,name\no@example.com,O\n', 'dryRun=true');
    expect(elsewhere.status).toBe(202);

    first.finish();
    second.finish();
    expect((await first.answer).statusCode).toBe(202);
    expect((await second.answer).statusCode).toBe(202);
    // A slot is freed once the spooled file is removed, just after the answer.
    await new Promise((r) => setTimeout(r, 200));
    const after = await upload(ctx.app, ws.token, 'email,name\na@example.com,A\n', 'dryRun=true');
    expect(after.status).toBe(202);
  });

  it('frees the slot of an upload that was refused', async () => {
    for (let i = 0; i < 3; i++) {
      const refused = await upload(ctx.app, ws.token, 'name\nNo email\n', 'dryRun=true');
      expect(refused.status).toBe(422);
    }
    expect((await upload(ctx.app, ws.token, 'email,name\nb@example.com,B\n', 'dryRun=true')).status).toBe(
      202,
    );
  });
});
