import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { call, useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { multipart, upload } from '../support/imports.js';

/*
 * Property tests of the REST surfaces outside SCIM: any query string, cursor, JSON body, form body or
 * multipart field gets a 2xx or a 4xx in the JSON envelope, never a 5xx.
 */
const ctx = useTestContext();
let token: string;
let userId: string;
let importId: string;
let roleId: string;

beforeAll(async () => {
  token = (await makeWorkspace(ctx.db)).token;
  userId = (
    await call(ctx.app, 'POST', '/v1/users', {
      token,
      body: { name: 'Ada', email: 'ada@example.com', role: 'Admin', sendInvite: false },
    })
  ).body.id;
  importId = (await upload(ctx.app, token, 'email,name\nb@example.com,B\n', 'dryRun=true')).body.id;
  roleId = (await call(ctx.app, 'GET', '/v1/roles', { token })).body.data[0].id;
});

async function expectNo5xx(options: {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  payload?: string | Buffer;
  headers?: Record<string, string>;
}) {
  const res = await ctx.app.inject({
    ...options,
    headers: { authorization: `Bearer ${token}`, ...options.headers },
  });
  const shown = typeof options.payload === 'string' ? options.payload.slice(0, 200) : '';
  expect(res.statusCode, `${options.method} ${options.url} ${shown} → ${res.body}`).toBeLessThan(500);
  if (res.statusCode >= 400) expect(res.json().error.code).toMatch(/^[a-z_]+$/);
  return res;
}

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const lists = () => [
  '/v1/users',
  '/v1/imports',
  '/v1/audit',
  '/v1/roles',
  '/v1/locations',
  `/v1/imports/${importId}/rows`,
];

describe('list cursors', () => {
  it.each([
    ['a non-uuid', ['not-a-uuid']],
    ['a huge number', [1e300]],
    ['a number past integer', [2 ** 31]],
    ['a huge rank and an id', [1e20, newId()]],
    ['a NUL name and an id', ['\u0000', newId()]],
    ['a rank and a non-uuid', [1, 'x']],
  ])('answers 400 invalid_cursor to %s on every list', async (_name, value) => {
    for (const url of lists()) {
      const res = await call(ctx.app, 'GET', `${url}?cursor=${cursor(value)}`, { token });
      expect(res.status, `${url} ${res.status}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_cursor');
    }
  });

  it('answers 2xx or 4xx to any cursor', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.jsonValue({ maxDepth: 2 }).map(cursor),
      fc.array(fc.oneof(fc.double(), fc.integer(), fc.string(), fc.uuid()), { maxLength: 3 }).map(cursor),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists()), value, async (url, c) => {
        await expectNo5xx({ method: 'GET', url: `${url}?cursor=${encodeURIComponent(c)}` });
      }),
      { numRuns: 150 },
    );
  });
});

describe('query strings', () => {
  it('answers 2xx or 4xx to any query string on the lists and reports', async () => {
    const key = fc.constantFrom('limit', 'cursor', 'status', 'role', 'location', 'q', 'userId', 'since', 'x');
    const query = fc.array(fc.tuple(key, fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...lists(), `/v1/imports/${importId}/report.csv`),
        query,
        async (url, pairs) => {
          const qs = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          await expectNo5xx({ method: 'GET', url: `${url}?${qs}` });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('JSON bodies', () => {
  it('answers 2xx or 4xx to any JSON on the writes not covered elsewhere', async () => {
    const routes = (): ['POST' | 'PATCH', string][] => [
      ['PATCH', `/v1/users/${userId}`],
      ['PATCH', `/v1/roles/${roleId}`],
      ['POST', '/v1/locations'],
      ['POST', '/v1/invitations/resend'],
      ['POST', '/v1/invitations/accept'],
      ['POST', `/v1/users/${userId}/invitation`],
    ];
    const body = fc.dictionary(
      fc.constantFrom('name', 'rank', 'status', 'role', 'location', 'olderThanDays', 'token', 'givenName'),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary' })),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes()), body, async ([method, url], b) => {
        await expectNo5xx({
          method,
          url,
          payload: JSON.stringify(b),
          headers: { 'content-type': 'application/json' },
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('form-encoded bodies', () => {
  it('answers 400 invalid_text to a NUL in a form field of POST /v1/users', async () => {
    const res = await expectNo5xx({
      method: 'POST',
      url: '/v1/users',
      payload: 'name=A%00B&email=nul%40example.com&role=Admin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_text');
  });

  it('answers 2xx or 4xx to any form body', async () => {
    const field = fc.tuple(
      fc.constantFrom('name', 'email', 'role', 'location', 'sendInvite', 'x'),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/users', '/v1/roles', '/v1/locations'),
        fc.array(field, { maxLength: 5 }),
        async (url, fields) => {
          await expectNo5xx({
            method: 'POST',
            url,
            payload: fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('multipart fields', () => {
  it('answers 2xx or 4xx to any option fields of POST /v1/imports, before or after the file', async () => {
    const name = fc.constantFrom(
      'mode',
      'dryRun',
      'sendInvites',
      'defaultRole',
      'notifyEmail',
      'confirmDeactivations',
      'fileName',
      'x',
    );
    const field = fc.record({ name, value: fc.string({ unit: 'binary', maxLength: 30 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(field, { maxLength: 4 }), fc.boolean(), async (fields, fileFirst) => {
        const file = { name: 'file', file: 'email,name\nm@example.com,M\n', filename: 'people.csv' };
        const body = multipart(fileFirst ? [file, ...fields] : [...fields, file]);
        await expectNo5xx({
          method: 'POST',
          url: '/v1/imports?dryRun=true',
          payload: body.payload,
          headers: body.headers,
        });
      }),
      { numRuns: 100 },
    );
  });
});
