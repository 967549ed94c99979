import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from '../support/context.js';
import { makeToken, makeWorkspace } from '../support/factories.js';

/*
 * Hostile SCIM list parameters: random filters built from the grammar's tokens and junk, injection
 * attempts through values, attribute names, sortBy and attributes. The answer is 200 with correct
 * results or 400 in the SCIM envelope; never a 5xx.
 */
const ctx = useTestContext();
let token: string;

const USERS = ['a_b', 'axb', 'a%b', 'back\\slash', "o'brien", 'quote"d', 'zoë'];

beforeAll(async () => {
  const ws = await makeWorkspace(ctx.db);
  token = await makeToken(ctx.db, ws.workspaceId, ['scim']);
  for (const name of USERS) {
    const res = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: name,
        name: { givenName: name, familyName: 'Test' },
        emails: [{ value: `user${USERS.indexOf(name)}@example.com`, type: 'work', primary: true }],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});

async function list(resource: 'Users' | 'Groups', query: Record<string, string>) {
  const res = await call(ctx.app, 'GET', `/scim/v2/${resource}?${new URLSearchParams(query).toString()}`, {
    token,
  });
  expect(res.status, JSON.stringify({ query, body: res.body })).toBeLessThan(500);
  if (res.status !== 200) {
    expect(res.status).toBe(400);
    expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect(res.body.detail).toMatch(/\w+/);
  }
  return res;
}

const userNames = (res: { body: { Resources?: { userName: string }[] } }) =>
  (res.body.Resources ?? []).map((u) => u.userName).sort();

const ATTRS = [
  'userName',
  'displayName',
  'name.givenName',
  'emails',
  'emails.value',
  'emails.type',
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'active',
  'externalId',
  'id',
  'title',
  'meta.created',
  'meta.lastModified',
  'members',
  'members.value',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName',
  'nope',
  '__proto__',
  'constructor.prototype',
];
const OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'EQ', 'Co'];
const VALUES = [
  '"a_b"',
  '""',
  '"%"',
  '"_"',
  '"\\\\"',
  '"\\""',
  '"\\u0000"',
  '"\\ud800"',
  '"\'; drop table users; --"',
  '"2026-11-28T09:30:00Z"',
  '"9999-12-31T23:59:59.999999999+15:59"',
  'true',
  'False',
  'null',
  '42',
  '-1e999',
  'unquoted',
  '"unterminated',
];
const JUNK = ['(', ')', '[', ']', '].', 'and', 'or', 'not', '"', '\\', ';', '--', '\t', '\u0000', 'é', '1=1'];

const token$ = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ATTRS) },
  { weight: 3, arbitrary: fc.constantFrom(...OPS) },
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.constantFrom(...JUNK) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
/** Mostly well-formed comparisons joined by and/or, with junk mixed in. */
const comparison = fc
  .tuple(fc.constantFrom(...ATTRS), fc.constantFrom(...OPS), fc.constantFrom(...VALUES))
  .map(([a, o, v]) => (o.toLowerCase() === 'pr' ? `${a} pr` : `${a} ${o} ${v}`));
const filter$ = fc.oneof(
  fc.array(token$, { minLength: 1, maxLength: 12 }).map((t) => t.join(' ')),
  fc.array(fc.oneof(comparison, token$), { minLength: 1, maxLength: 5 }).chain((parts) =>
    fc
      .array(fc.constantFrom(' and ', ' or ', ' and not ', ') or (', ''), {
        minLength: parts.length,
        maxLength: parts.length,
      })
      .map((joins) => parts.map((p, i) => (i === 0 ? p : `${joins[i]}${p}`)).join('')),
  ),
  fc.string({ maxLength: 60 }),
);

describe('GET /scim/v2/Users and /Groups with random filters', () => {
  it('answers 200 or 400 invalidFilter to any filter on Users', async () => {
    await fc.assert(
      fc.asyncProperty(filter$, async (filter) => {
        const res = await list('Users', { filter });
        if (res.status === 400) expect(res.body.scimType).toBe('invalidFilter');
      }),
      { numRuns: 250 },
    );
  });

  it('answers 200 or 400 invalidFilter to any filter on Groups', async () => {
    await fc.assert(
      fc.asyncProperty(filter$, async (filter) => {
        const res = await list('Groups', { filter });
        if (res.status === 400) expect(res.body.scimType).toBe('invalidFilter');
      }),
      { numRuns: 120 },
    );
  });

  it('answers 200 or 400 to the POST /.search form with any JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { filter: fc.oneof(filter$, fc.jsonValue()), sortBy: fc.jsonValue(), count: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        async (body) => {
          const res = await call(ctx.app, 'POST', '/scim/v2/Users/.search', { token, body });
          expect(res.status, JSON.stringify({ body, res: res.body })).toBeLessThan(500);
          if (res.status !== 200) expect(res.status).toBe(400);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('refuses filters nested thousands of levels deep with 400, quickly', async () => {
    for (const filter of [
      `${'('.repeat(3000)}userName eq "a_b"${')'.repeat(3000)}`,
      `${'not ('.repeat(2000)}userName eq "a_b"${')'.repeat(2000)}`,
      `emails[${'value eq "x" and '.repeat(900)}value eq "y"]`,
      Array.from({ length: 900 }, () => 'userName eq "x"').join(' or '),
    ]) {
      const res = await list('Users', { filter });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    }
  });
});

describe('injection through SCIM list parameters', () => {
  it.each([
    ['userName co "_"', ['a_b']],
    ['userName co "%"', ['a%b']],
    ['userName sw "a_"', ['a_b']],
    ['userName ew "%b"', ['a%b']],
    ['userName co "\\\\"', ['back\\slash']],
    ['userName eq "o\'brien"', ["o'brien"]],
    ['userName eq "quote\\"d"', ['quote"d']],
    ['userName co "\'"', ["o'brien"]],
    ['userName eq "x\') or 1=1 --"', []],
    ['userName eq "x\\" or \\"1\\"=\\"1"', []],
    ['userName co ";--"', []],
    ['name.givenName co "_"', ['a_b']],
    ['name.givenName co "%"', ['a%b']],
    ['emails.value co "_"', []],
    ['emails[value co "%"]', []],
    ['userName eq "ZOË"', ['zoë']],
  ])('%s finds exactly %j', async (filter, expected) => {
    const res = await list('Users', { filter });
    expect(res.status).toBe(200);
    expect(userNames(res)).toEqual([...expected].sort());
  });

  it('finds a user named with % and _ literally in Groups too (displayName co)', async () => {
    const made = await call(ctx.app, 'POST', '/scim/v2/Groups', {
      token,
      body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'g_1' },
    });
    expect(made.status).toBe(201);
    const under = await list('Groups', { filter: 'displayName co "_"' });
    expect(under.body.Resources.map((g: { displayName: string }) => g.displayName)).toEqual(['g_1']);
    const percent = await list('Groups', { filter: 'displayName co "%"' });
    expect(percent.body.totalResults).toBe(0);
  });

  it.each([
    'userName) or (1=1',
    'userName eq "x") or (1=1',
    'emails[value eq "x"]) or (',
    'userName eq "x" or 1=1',
    "userName eq 'x'",
    'userName eq "x"; drop table users',
    'userName; drop table users eq "x"',
    'user"Name eq "x"',
    'emails[type eq "work"]]',
    'members[value eq "x"].display eq "y"',
    'userName eq "a_b" --',
    'userName eq "\u0000"',
    'userName eq "\\u0000"',
    'title co "\\u0000"',
    'emails[value eq "\\u0000"]',
    'meta.created gt "\\u0000"',
    // A lone surrogate through a JSON escape: jsonb refuses it (the e-mail probe was a 500).
    'emails.value eq "\\ud800"',
    'emails[value eq "\\udfff"]',
    'userName eq "\\ud800"',
  ])('refuses %j with 400 invalidFilter, or answers without matching everyone', async (filter) => {
    const res = await list('Users', { filter });
    if (res.status === 200) expect(res.body.totalResults).toBe(0);
    else expect(res.body.scimType).toBe('invalidFilter');
  });

  it.each([
    'userName; drop table users',
    'userName desc, id',
    'u.id',
    '(select 1)',
    '1',
    'emails[type eq "work"].value',
    '__proto__',
    'constructor',
    'userName\u0000',
  ])('refuses sortBy %j with 400 invalidValue', async (sortBy) => {
    const res = await list('Users', { sortBy });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it.each(['x', '1;drop', 'ASC', 'descending; --'])('refuses sortOrder %j with 400', async (sortOrder) => {
    const res = await list('Users', { sortBy: 'userName', sortOrder });
    expect(res.status).toBe(400);
  });

  it('never answers 5xx to random attributes, excludedAttributes, sortBy, startIndex and count', async () => {
    const junk = fc.oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'emails.__proto__',
        'name.constructor',
        'schemas.0',
        'meta.version',
        'urn:x:y',
        ',,,',
        'emails[type eq "work"]',
        '-1',
        '99999999999',
        '1e3',
        'NaN',
      ),
      fc.string({ maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            attributes: junk,
            excludedAttributes: junk,
            sortBy: junk,
            sortOrder: junk,
            startIndex: junk,
            count: junk,
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom('Users' as const, 'Groups' as const),
        async (query, resource) => {
          await list(resource, query);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('projects attributes named like prototype keys to nothing extra', async () => {
    const res = await list('Users', {
      filter: 'userName eq "a_b"',
      attributes: '__proto__,constructor,prototype,name.__proto__',
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'schemas']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
