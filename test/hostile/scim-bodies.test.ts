import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, type Call } from '../support/context.js';
import { makeToken, makeWorkspace } from '../support/factories.js';
import { prototypeClean } from '../support/hostile.js';

/*
 * Hostile SCIM bodies: deep nesting, huge arrays, prototype keys, wrong types everywhere. The answer is
 * 2xx or 4xx in the SCIM envelope, never a 5xx; a refused write leaves the resource's version as it was;
 * nothing reaches Object.prototype.
 */
const ctx = useTestContext();
let token: string;
let userId: string;
let groupId: string;

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

beforeAll(async () => {
  const ws = await makeWorkspace(ctx.db);
  token = await makeToken(ctx.db, ws.workspaceId, ['scim']);
  const user = await call(ctx.app, 'POST', '/scim/v2/Users', {
    token,
    body: { schemas: [USER], userName: 'target@example.com', name: { givenName: 'T', familyName: 'Arget' } },
  });
  expect(user.status).toBe(201);
  userId = user.body.id;
  const group = await call(ctx.app, 'POST', '/scim/v2/Groups', {
    token,
    body: { schemas: [GROUP], displayName: 'Targets', members: [{ value: userId }] },
  });
  expect(group.status).toBe(201);
  groupId = group.body.id;
});

/** Sends a raw JSON text (so that it can hold what JSON.stringify would never write). */
async function send(method: 'POST' | 'PUT' | 'PATCH', url: string, json: string): Promise<Call> {
  const res = await ctx.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    payload: json,
  });
  let body: any; // JSON under test
  try {
    body = JSON.parse(res.body);
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body, headers: res.headers };
}

const versionOf = async (kind: 'Users' | 'Groups', id: string): Promise<string> => {
  const res = await call(ctx.app, 'GET', `/scim/v2/${kind}/${id}`, { token });
  expect(res.status).toBe(200);
  return res.body.meta.version as string;
};

/** The contract for one hostile write: 2xx, or 4xx in the SCIM envelope with the version unchanged. */
async function hostile(
  method: 'POST' | 'PUT' | 'PATCH',
  kind: 'Users' | 'Groups',
  json: string,
): Promise<Call> {
  const id = kind === 'Users' ? userId : groupId;
  const url = method === 'POST' ? `/scim/v2/${kind}` : `/scim/v2/${kind}/${id}`;
  const before = await versionOf(kind, id);
  const res = await send(method, url, json);
  expect(res.status, `${method} ${kind} ${json.slice(0, 300)} → ${JSON.stringify(res.body)}`).toBeLessThan(
    500,
  );
  expect(prototypeClean()).toBe(true);
  if (res.status >= 400) {
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect(res.body.detail).toMatch(/\w+/);
    expect(await versionOf(kind, id)).toBe(before);
  }
  return res;
}

const patchOf = (operations: unknown[]) => JSON.stringify({ schemas: [PATCH], Operations: operations });
const nested = (depth: number, leaf = '"x"') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
const nestedArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('deep nesting', () => {
  it.each([
    [
      'a PATCH value',
      (d: string) => `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"title","value":${d}}]}`,
    ],
    [
      'a path-less PATCH value',
      (d: string) => `{"schemas":["${PATCH}"],"Operations":[{"op":"add","value":{"title":${d}}}]}`,
    ],
    [
      'the enterprise extension of a PUT',
      (d: string) =>
        `{"schemas":["${USER}"],"userName":"target@example.com","${ENTERPRISE}":{"manager":${d}}}`,
    ],
    [
      'the name of a PUT',
      (d: string) => `{"schemas":["${USER}"],"userName":"target@example.com","name":${d}}`,
    ],
    [
      'an unknown attribute of a PUT',
      (d: string) => `{"schemas":["${USER}"],"userName":"target@example.com","x":${d}}`,
    ],
    ['the operations list', (d: string) => `{"schemas":["${PATCH}"],"Operations":${d}}`],
  ])('answers 4xx or 2xx, not a stack overflow, to 10,000 levels in %s', async (_where, make) => {
    for (const deep of [nested(10_000), nestedArray(10_000)]) {
      const method = make('').includes(PATCH) ? 'PATCH' : 'PUT';
      await hostile(method, 'Users', make(deep));
    }
  });

  it('refuses 10,000 levels in the enterprise extension of a POST with 400', async () => {
    const json = `{"schemas":["${USER}"],"userName":"deep@example.com","${ENTERPRISE}":{"department":${nested(10_000)}}}`;
    const res = await hostile('POST', 'Users', json);
    expect(res.status).toBe(400);
  });

  it('answers 4xx or 2xx to 10,000 levels in a Group PATCH and POST', async () => {
    await hostile(
      'PATCH',
      'Groups',
      `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"members","value":${nestedArray(10_000)}}]}`,
    );
    await hostile(
      'PATCH',
      'Groups',
      `{"schemas":["${PATCH}"],"Operations":[{"op":"replace","value":${nested(10_000)}}]}`,
    );
    await hostile('POST', 'Groups', `{"schemas":["${GROUP}"],"displayName":${nested(10_000)}}`);
  });
});

describe('huge arrays', () => {
  const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));

  it('answers 4xx or 2xx to 100,000 e-mails in a PATCH', async () => {
    const value = many(100_000, (i) => ({ value: `e${i}@example.com`, type: 'other' }));
    await hostile('PATCH', 'Users', patchOf([{ op: 'add', path: 'emails', value }]));
  });

  it('answers 4xx or 2xx to 100,000 phone numbers in a POST', async () => {
    const phoneNumbers = many(100_000, (i) => ({ value: `+1 555 ${i}`, type: 'work' }));
    await hostile(
      'POST',
      'Users',
      JSON.stringify({ schemas: [USER], userName: 'phones@example.com', phoneNumbers }),
    );
  });

  it('refuses 100,000 operations (over 2 MiB) with 413, and 1,001 with 400', async () => {
    const ops = (n: number) => many(n, () => ({ op: 'replace', path: 'title', value: 'x' }));
    expect((await hostile('PATCH', 'Users', patchOf(ops(100_000)))).status).toBe(413);
    expect((await hostile('PATCH', 'Users', patchOf(ops(1_001)))).status).toBe(400);
  });

  it('answers 4xx or 2xx to 100,000 unknown members in a Group PATCH', async () => {
    const value = many(100_000, (i) => ({ value: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}` }));
    const res = await hostile('PATCH', 'Groups', patchOf([{ op: 'add', path: 'members', value }]));
    expect(res.status).toBe(413); // 5.4 MB
    const fewer = await hostile(
      'PATCH',
      'Groups',
      patchOf([{ op: 'add', path: 'members', value: value.slice(0, 30_000) }]),
    );
    expect(fewer.status).toBe(400);
  });

  it('answers 4xx or 2xx to 100,000 schemas in a PUT', async () => {
    await hostile(
      'PUT',
      'Users',
      JSON.stringify({ schemas: many(100_000, () => USER), userName: 'target@example.com' }),
    );
  });
});

describe('prototype keys', () => {
  const KEYS = ['__proto__', 'constructor', 'prototype'];
  const poison = (key: string, inner: string) => `{"${key}":${inner}}`;

  it.each(KEYS)('refuses or ignores %s at every level of a PATCH and a POST', async (key) => {
    const payload = `{"polluted":"yes","isAdmin":true,"prototype":{"polluted":"yes"}}`;
    const bodies: ['POST' | 'PUT' | 'PATCH', 'Users' | 'Groups', string][] = [
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"${key}","value":${payload}}]}`,
      ],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","value":${poison(key, payload)}}]}`,
      ],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"name","value":${poison(key, payload)}}]}`,
      ],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"emails","value":[${poison(key, payload)}]}]}`,
      ],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"name.${key}","value":"x"}]}`,
      ],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"emails[${key} eq \\"x\\"].value","value":"x"}]}`,
      ],
      ['PATCH', 'Users', `{"schemas":["${PATCH}"],"Operations":[${poison(key, payload)}]}`],
      ['PATCH', 'Users', poison(key, `{"schemas":["${PATCH}"],"Operations":[]}`)],
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"${ENTERPRISE}:${key}","value":"x"}]}`,
      ],
      [
        'POST',
        'Users',
        `{"schemas":["${USER}"],"userName":"proto-${key}@example.com","${key}":${payload},"name":${poison(key, payload)},"${ENTERPRISE}":${poison(key, payload)}}`,
      ],
      [
        'PUT',
        'Users',
        `{"schemas":["${USER}"],"userName":"target@example.com","emails":[${poison(key, payload)}],"${ENTERPRISE}":{"manager":${poison(key, payload)}}}`,
      ],
      [
        'PATCH',
        'Groups',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","value":${poison(key, payload)}}]}`,
      ],
      [
        'PATCH',
        'Groups',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"members","value":[${poison(key, payload)}]}]}`,
      ],
      ['POST', 'Groups', `{"schemas":["${GROUP}"],"displayName":"proto-${key}","${key}":${payload}}`],
    ];
    for (const [method, kind, json] of bodies) await hostile(method, kind, json);
    const bulk = await send(
      'POST',
      '/scim/v2/Bulk',
      `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[${poison(key, payload)}]}`,
    );
    expect(bulk.status).toBeGreaterThanOrEqual(400);
    expect(bulk.status).toBeLessThan(500);
    expect(prototypeClean()).toBe(true);
  });
});

describe('text Postgres cannot store', () => {
  const BAD = ['"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff x"', '"x\\uDBFF"'];

  it.each(BAD)('refuses %s in a PATCH, POST, PUT and Bulk with 400 invalidValue', async (bad) => {
    const writes: ['POST' | 'PUT' | 'PATCH', 'Users' | 'Groups', string][] = [
      [
        'PATCH',
        'Users',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"add","path":"title","value":${bad}}]}`,
      ],
      ['PATCH', 'Users', `{"schemas":["${PATCH}"],"Operations":[{"op":"add","value":{${bad}:"x"}}]}`],
      ['POST', 'Users', `{"schemas":["${USER}"],"userName":${bad}}`],
      [
        'POST',
        'Users',
        `{"schemas":["${USER}"],"userName":"ok-${BAD.indexOf(bad)}@example.com","${ENTERPRISE}":{"department":${bad}}}`,
      ],
      ['PUT', 'Users', `{"schemas":["${USER}"],"userName":"target@example.com","title":${bad}}`],
      [
        'PATCH',
        'Groups',
        `{"schemas":["${PATCH}"],"Operations":[{"op":"replace","path":"displayName","value":${bad}}]}`,
      ],
      ['POST', 'Groups', `{"schemas":["${GROUP}"],"displayName":${bad}}`],
    ];
    for (const [method, kind, json] of writes) {
      const res = await hostile(method, kind, json);
      expect(res.status, json).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
    }
    const bulk = await send(
      'POST',
      '/scim/v2/Bulk',
      `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b","data":{"schemas":["${USER}"],"userName":${bad}}}]}`,
    );
    expect(bulk.status).toBe(400);
    expect(bulk.body.scimType).toBe('invalidValue');
  });
});

describe('wrong types', () => {
  const paths = fc.constantFrom(
    'title',
    'active',
    'name',
    'name.givenName',
    'emails',
    'emails[type eq "work"].value',
    'emails[type eq "work"]',
    'phoneNumbers',
    'userName',
    'displayName',
    'externalId',
    'roles',
    'groups',
    'meta',
    'id',
    `${ENTERPRISE}:manager`,
    `${ENTERPRISE}:department`,
    'urn:ietf:params:scim:schemas:extension:loopit:2.0:User:role',
    'urn:ietf:params:scim:schemas:extension:loopit:2.0:User:location',
    'password',
  );
  const ops = fc.constantFrom('add', 'replace', 'remove', 'Replace', 'ADD', 'delete', '');
  // JSON.stringify writes NaN and Infinity as null; the raw values below are what a hostile client types.
  const odd = fc.constantFrom(
    'NaN',
    'Infinity',
    '1e999',
    '-1e999',
    '1e-999',
    '123456789012345678901234567890',
    '-0',
    '"\\ud800"',
    '"\\u0000"',
    '"True"',
    '"1"',
    '"null"',
  );
  const value = fc.oneof(
    fc.anything({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    odd,
  );

  it('answers 2xx or 4xx to any op, path and value in a User PATCH', async () => {
    await fc.assert(
      fc.asyncProperty(ops, paths, value, fc.boolean(), async (op, path, v, withPath) => {
        const operation = withPath
          ? `{"op":"${op}","path":${JSON.stringify(path)},"value":${v}}`
          : `{"op":"${op}","value":${v}}`;
        await hostile('PATCH', 'Users', `{"schemas":["${PATCH}"],"Operations":[${operation}]}`);
      }),
      { numRuns: 150 },
    );
  });

  it('answers 2xx or 4xx to any value in a Group PATCH', async () => {
    const groupPaths = fc.constantFrom(
      'members',
      'displayName',
      'externalId',
      'members[value eq "x"]',
      'id',
      '',
    );
    await fc.assert(
      fc.asyncProperty(ops, groupPaths, value, async (op, path, v) => {
        await hostile(
          'PATCH',
          'Groups',
          `{"schemas":["${PATCH}"],"Operations":[{"op":"${op}","path":"${path}","value":${v}}]}`,
        );
      }),
      { numRuns: 80 },
    );
  });

  it('answers 2xx or 4xx to any attribute values in a User POST and PUT', async () => {
    const attrs = fc.dictionary(
      fc.constantFrom(
        'userName',
        'name',
        'emails',
        'active',
        'title',
        'externalId',
        'displayName',
        'roles',
        'phoneNumbers',
        ENTERPRISE,
        'schemas',
      ),
      value,
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(attrs, fc.boolean(), async (dict, put) => {
        const fields = Object.entries(dict).map(([k, v]) => `${JSON.stringify(k)}:${v}`);
        const base = put
          ? [`"schemas":["${USER}"]`, '"userName":"target@example.com"']
          : [`"schemas":["${USER}"]`];
        await hostile(put ? 'PUT' : 'POST', 'Users', `{${[...base, ...fields].join(',')}}`);
      }),
      { numRuns: 120 },
    );
  });

  it('refuses bodies that are not objects with 400 invalidSyntax', async () => {
    for (const json of ['[]', '"x"', '1', 'true', 'null', '{', '{"a":1,}', '\u0000', '{"a":"\\x"}']) {
      const res = await hostile('PATCH', 'Users', json);
      expect(res.status).toBe(400);
    }
  });
});
