import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, type Call } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

/*
 * PATCH and PUT are atomic read-modify-write (DESIGN, SCIM 2.0): requests on the same user sent at the
 * same time without If-Match, as identity providers send them, never lose each other's changes; each
 * write gets its own version, and every answer's ETag is its meta.version.
 */

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USERS = 20;

let scimToken = '';
let restToken = '';

const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<Call> =>
  call(ctx.app, method, `/scim/v2${path}`, {
    token: scimToken,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json; charset=utf-8' },
  });

const replace = (path: string, value: unknown) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'Replace', path, value }],
});

const versionOf = (res: Call): number => {
  const version = res.body.meta.version as string;
  expect(res.headers.etag, 'the ETag header is meta.version').toBe(version);
  const n = /^W\/"(\d+)"$/.exec(version)?.[1];
  expect(n, `a weak ETag with a number: ${version}`).toBeDefined();
  return Number(n);
};

/** The answer must be 200 with the resource; returns its version after checking the ETag. */
const ok = (res: Call, what: string): number => {
  expect(res.status, `${what} answered ${res.status} ${JSON.stringify(res.body)}`).toBe(200);
  return versionOf(res);
};

let seq = 0;
function userBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  const userName = `race.user${seq}@example.com`;
  return {
    schemas: [CORE],
    userName,
    name: { givenName: `Given${seq}`, familyName: `Family${seq}` },
    displayName: `Race User ${seq}`,
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
    ...over,
  };
}

async function createUsers(n: number): Promise<Call[]> {
  const created = await Promise.all(Array.from({ length: n }, () => scim('POST', '/Users', userBody())));
  for (const res of created) expect(res.status, JSON.stringify(res.body)).toBe(201);
  return created;
}

const distinct = (xs: number[]): boolean => new Set(xs).size === xs.length;

beforeAll(async () => {
  const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Customer Success'], locations: ['London'] });
  restToken = ws.token;
  scimToken = await makeToken(ctx.db, ws.workspaceId, ['scim']);
});

describe('concurrent SCIM writes on the same users, without If-Match', () => {
  it('three PATCHes of different attributes sent together on each of 20 users: all three kept on every user', async () => {
    const users = await createUsers(USERS);
    const sends = users.flatMap((u) => {
      const id = u.body.id as string;
      return [
        scim('PATCH', `/Users/${id}`, replace('title', `Title of ${id}`)).then((res) => ({ id, res })),
        scim('PATCH', `/Users/${id}`, replace('nickName', `Nick of ${id}`)).then((res) => ({ id, res })),
        scim('PATCH', `/Users/${id}`, replace('name.givenName', `Given of ${id}`)).then((res) => ({
          id,
          res,
        })),
      ];
    });
    const answers = await Promise.all(sends);
    const versions = new Map<string, number[]>();
    for (const { id, res } of answers) {
      versions.set(id, [...(versions.get(id) ?? []), ok(res, `PATCH ${id}`)]);
    }

    const lost: string[] = [];
    const reads = new Map<string, number>();
    for (const u of users) {
      const id = u.body.id as string;
      const res = await scim('GET', `/Users/${id}`);
      reads.set(id, ok(res, `GET ${id}`));
      const kept = {
        title: res.body.title === `Title of ${id}`,
        nickName: res.body.nickName === `Nick of ${id}`,
        givenName: res.body.name?.givenName === `Given of ${id}`,
      };
      const missing = Object.entries(kept)
        .filter(([, v]) => !v)
        .map(([k]) => k);
      if (missing.length > 0) lost.push(`${id}: lost ${missing.join(', ')}`);
    }
    expect(lost, `${lost.length} of ${USERS} users lost an update`).toEqual([]);
    // Each of the three writes made a version of its own, after the created one, and the read shows the last.
    for (const u of users) {
      const id = u.body.id as string;
      const mine = versions.get(id)!;
      expect(distinct(mine), `${id}: the three PATCHes answered versions ${mine.join(', ')}`).toBe(true);
      expect(Math.min(...mine)).toBeGreaterThan(versionOf(u));
      expect(reads.get(id)).toBe(Math.max(...mine));
    }
  });

  it('PATCHes of the same attribute sent together: the value read back is the one of the highest version', async () => {
    const users = await createUsers(5);
    for (const u of users) {
      const id = u.body.id as string;
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => scim('PATCH', `/Users/${id}`, replace('title', `Title ${i}`))),
      );
      const versions = answers.map((res, i) => ok(res, `PATCH ${i} of ${id}`));
      expect(
        distinct(versions),
        `${id}: six PATCHes answered versions ${versions.join(', ')}; a repeated one is a write made over another`,
      ).toBe(true);
      const last = answers[versions.indexOf(Math.max(...versions))]!;
      const read = await scim('GET', `/Users/${id}`);
      expect(ok(read, `GET ${id}`)).toBe(Math.max(...versions));
      expect(read.body.title).toBe(last.body.title);
    }
  });

  it('PUTs and a PATCH sent together: the result is what some order of them gives, never a mix', async () => {
    const users = await createUsers(USERS);
    for (const u of users) {
      const id = u.body.id as string;
      const base = {
        schemas: [CORE],
        userName: u.body.userName as string,
        emails: u.body.emails as unknown[],
        active: true,
      };
      const putA = { ...base, name: { givenName: 'Alpha', familyName: 'First' }, title: 'Title A' };
      const putB = { ...base, name: { givenName: 'Beta', familyName: 'Second' }, title: 'Title B' };
      const [a, b, p] = await Promise.all([
        scim('PUT', `/Users/${id}`, putA),
        scim('PUT', `/Users/${id}`, putB),
        scim('PATCH', `/Users/${id}`, replace('nickName', 'Patched')),
      ]);
      const versions = [ok(a, `PUT A ${id}`), ok(b, `PUT B ${id}`), ok(p, `PATCH ${id}`)];
      expect(distinct(versions), `${id}: versions ${versions.join(', ')}`).toBe(true);
      const read = await scim('GET', `/Users/${id}`);
      expect(ok(read, `GET ${id}`)).toBe(Math.max(...versions));
      // The later PUT decides the name and title together; the PATCH survives only if it came after it.
      const lastPut = versions[0]! > versions[1]! ? putA : putB;
      const order = `${id}: PUT A → ${versions[0]}, PUT B → ${versions[1]}, PATCH → ${versions[2]}`;
      expect(read.body.name, order).toMatchObject(lastPut.name);
      expect(read.body.title, order).toBe(lastPut.title);
      const patchAfterPuts = versions[2]! > Math.max(versions[0]!, versions[1]!);
      if (patchAfterPuts) expect(read.body.nickName, order).toBe('Patched');
      else expect(read.body.nickName, order).toBeUndefined();
    }
  });

  it('a group membership change and a user PATCH at the same time: both kept', async () => {
    const users = await createUsers(USERS);
    const group = await scim('POST', '/Groups', {
      schemas: [CORE_GROUP],
      displayName: 'Night Shift',
      members: [],
    });
    expect(group.status).toBe(201);
    const groupId = group.body.id as string;
    await Promise.all(
      users.flatMap((u) => {
        const id = u.body.id as string;
        return [
          scim('PATCH', `/Groups/${groupId}`, {
            schemas: [PATCH_OP],
            Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
          }).then((res) => expect(res.status, JSON.stringify(res.body)).toBe(204)),
          scim('PATCH', `/Users/${id}`, replace('title', 'Night Driver')).then((res) =>
            ok(res, `PATCH ${id}`),
          ),
        ];
      }),
    );
    for (const u of users) {
      const id = u.body.id as string;
      const read = await scim('GET', `/Users/${id}`);
      ok(read, `GET ${id}`);
      expect(read.body.title).toBe('Night Driver');
      const rest = await call(ctx.app, 'GET', `/v1/users/${id}`, { token: restToken });
      expect(rest.body.role.name).toBe('Night Shift');
    }
    const members = await scim('GET', `/Groups/${groupId}`);
    expect(members.body.members).toHaveLength(USERS);
  });

  it('sequential writes and reads: every read shows a version above the previous one, with ETag = meta.version', async () => {
    const [u] = await createUsers(1);
    const id = u!.body.id as string;
    let previous = versionOf(u!);
    const writes: [string, () => Promise<Call>][] = [
      ['PATCH title', () => scim('PATCH', `/Users/${id}`, replace('title', 'One'))],
      ['PATCH nickName', () => scim('PATCH', `/Users/${id}`, replace('nickName', 'Two'))],
      [
        'PUT',
        () => scim('PUT', `/Users/${id}`, { ...userBody(), userName: u!.body.userName, title: 'Three' }),
      ],
      ['PATCH active', () => scim('PATCH', `/Users/${id}`, replace('active', 'False'))],
      ['PATCH active', () => scim('PATCH', `/Users/${id}`, replace('active', 'True'))],
    ];
    for (const [what, write] of writes) {
      const written = ok(await write(), what);
      const read = ok(await scim('GET', `/Users/${id}`), `GET after ${what}`);
      expect(written, what).toBeGreaterThan(previous);
      expect(read, `GET after ${what}`).toBe(written);
      previous = read;
    }
  });

  it('over real sockets: three PATCHes of different attributes on each of 10 users, all kept', async () => {
    const address = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const http = async (method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<Call> => {
      const res = await fetch(`${address}/scim/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${scimToken}`,
          'content-type': 'application/scim+json; charset=utf-8',
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        headers: Object.fromEntries(res.headers),
      };
    };
    const users = await createUsers(10);
    await Promise.all(
      users.flatMap((u) => {
        const id = u.body.id as string;
        return [
          ['title', `T ${id}`],
          ['nickName', `N ${id}`],
          ['name.givenName', `G ${id}`],
        ].map(([path, value]) =>
          http('PATCH', `/Users/${id}`, replace(path!, value)).then((res) => ok(res, `PATCH ${path} ${id}`)),
        );
      }),
    );
    const lost: string[] = [];
    for (const u of users) {
      const id = u.body.id as string;
      const res = await http('GET', `/Users/${id}`);
      ok(res, `GET ${id}`);
      const got = [res.body.title, res.body.nickName, res.body.name?.givenName];
      if (got.join('|') !== [`T ${id}`, `N ${id}`, `G ${id}`].join('|'))
        lost.push(`${id}: ${got.join(', ')}`);
    }
    expect(lost, `${lost.length} of 10 users lost an update`).toEqual([]);
  });
});
