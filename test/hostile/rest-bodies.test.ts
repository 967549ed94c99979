import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { prototypeClean } from '../support/hostile.js';

/* Hostile REST bodies and query strings: 2xx or 4xx in the JSON envelope, never a 5xx. */
const ctx = useTestContext();
let token: string;

beforeAll(async () => {
  token = (await makeWorkspace(ctx.db)).token;
});

async function hostile(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string) {
  const res = await ctx.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
    ...(payload ? { payload } : {}),
  });
  expect(res.statusCode, `${method} ${url} ${payload?.slice(0, 200)} → ${res.body}`).toBeLessThan(500);
  expect(prototypeClean()).toBe(true);
  if (res.statusCode >= 400) {
    const body = res.json();
    expect(body.error.code).toMatch(/^[a-z_]+$/);
    expect(body.error.message).toMatch(/\w+/);
  }
  return res;
}

describe('REST bodies and queries with text Postgres cannot store', () => {
  it.each(['"\\u0000"', '"a\\u0000"', '"\\ud800"', '"x\\udc00y"'])(
    'answers 4xx to %s anywhere',
    async (bad) => {
      await hostile('POST', '/v1/users', `{"name":${bad},"email":"a@example.com","role":"Admin"}`);
      await hostile('POST', '/v1/users', `{"name":"A","email":${bad},"role":"Admin"}`);
      await hostile('POST', '/v1/users', `{"name":"A","email":"b@example.com","role":${bad}}`);
      await hostile(
        'POST',
        '/v1/users',
        `{"name":"A","email":"c@example.com","role":"Admin","location":${bad}}`,
      );
      await hostile('POST', '/v1/roles', `{"name":${bad}}`);
      await hostile('POST', '/v1/locations', `{"name":${bad}}`);
      await hostile('POST', '/v1/invitations/accept', `{"token":${bad}}`);
    },
  );

  it.each(['%00', 'a%00b', '%ED%A0%80', '%C0%80', '%FF'])(
    'answers 4xx or 200 to %s in query strings',
    async (bad) => {
      for (const url of [
        `/v1/users?q=${bad}`,
        `/v1/users?role=${bad}`,
        `/v1/users?location=${bad}`,
        `/v1/users?status=${bad}`,
        `/v1/users?cursor=${bad}`,
        `/v1/imports?cursor=${bad}`,
        `/v1/users/${bad}`,
      ])
        await hostile('GET', url);
    },
  );
});

describe('REST bodies of any shape', () => {
  it('answers 2xx or 4xx to any JSON for POST /v1/users, /v1/roles and PATCH /v1/settings', async () => {
    const value = fc.oneof(fc.anything({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }));
    const body = fc.dictionary(
      fc.constantFrom(
        'name',
        'email',
        'role',
        'location',
        'sendInvite',
        'givenName',
        'familyName',
        'rank',
        '__proto__',
        'constructor',
      ),
      value,
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/users', '/v1/roles', '/v1/settings'), body, async (url, b) => {
        await hostile(url === '/v1/settings' ? 'PATCH' : 'POST', url, JSON.stringify(b) ?? '{}');
      }),
      { numRuns: 100 },
    );
  });

  it('refuses 10,000 levels of nesting and prototype keys with 400', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect((await hostile('POST', '/v1/users', `{"name":${deep},"email":"d@example.com"}`)).statusCode).toBe(
      400,
    );
    expect((await hostile('POST', '/v1/roles', '{"name":"x","__proto__":{"polluted":1}}')).statusCode).toBe(
      400,
    );
    expect(
      (await hostile('POST', '/v1/roles', '{"name":"x","constructor":{"prototype":{"polluted":1}}}'))
        .statusCode,
    ).toBe(400);
  });
});

describe('URLs that are not valid UTF-8', () => {
  it('answers 400 invalid_url in the JSON envelope under /v1 and the SCIM envelope under /scim', async () => {
    const rest = await call(ctx.app, 'GET', '/v1/users/%FF', { token });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatchObject({ code: 'invalid_url', requestId: rest.headers['x-request-id'] });
    const scim = await call(ctx.app, 'GET', '/scim/v2/Users/%ED%A0%80', { token });
    expect(scim.status).toBe(400);
    expect(scim.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      scimType: 'invalidSyntax',
    });
  });
});
