import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

// DESIGN's SCIM bullets that identity providers and generic clients rely on, each checked by the state
// it leaves (read back over SCIM and REST), not only by the status it answers.

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let ws: { workspaceId: string; token: string };
let token: string;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent', 'Viewer'], locations: ['London'] });
  token = await makeToken(ctx.db, ws.workspaceId, ['scim', 'users', 'admin']);
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const scim = (method: Method, url: string, body?: unknown) =>
  call(ctx.app, method, `/scim/v2${url}`, {
    token,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json' },
  });
const rest = (method: Method, url: string, body?: unknown) =>
  call(ctx.app, method, url, { token, ...(body !== undefined ? { body } : {}) });
const patch = (id: string, ...Operations: unknown[]) =>
  scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations });

let n = 0;
async function createUser(over: Record<string, unknown> = {}): Promise<string> {
  n += 1;
  const res = await scim('POST', '/Users', {
    schemas: [CORE],
    userName: `contract${n}@example.com`,
    name: { givenName: 'Con', familyName: `Tract${n}` },
    ...over,
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}
const roleOf = async (id: string): Promise<string> =>
  ((await rest('GET', `/v1/users/${id}`)).body as { role: { name: string } }).role.name;

describe('roles (core) sets the role as the extension does', () => {
  it('is returned as [{ value: <role name>, primary: true }]', async () => {
    const id = await createUser();
    const res = await scim('GET', `/Users/${id}`);
    expect(res.body.roles).toEqual([{ value: 'Admin', primary: true }]);
  });

  it('POST with roles sets the role; the extension wins when both are sent', async () => {
    const a = await createUser({ roles: [{ value: 'Agent', primary: true }] });
    expect(await roleOf(a)).toBe('Agent');
    const b = await createUser({ roles: [{ value: 'Agent' }], [LOOPIT]: { role: 'Viewer' } });
    expect(await roleOf(b)).toBe('Viewer');
  });

  const forms: [string, (role: string) => unknown[]][] = [
    ['replace with a path', (role) => [{ op: 'replace', path: 'roles', value: [{ value: role }] }]],
    ['add with a path', (role) => [{ op: 'add', path: 'roles', value: [{ value: role, primary: true }] }]],
    [
      'Entra\'s Add of roles[primary eq "True"].value',
      (role) => [{ op: 'Add', path: 'roles[primary eq "True"].value', value: role }],
    ],
    [
      'Replace of roles[primary eq true].value',
      (role) => [{ op: 'Replace', path: 'roles[primary eq true].value', value: role }],
    ],
    [
      'path-less replace',
      (role) => [{ op: 'replace', value: { roles: [{ value: role, primary: 'True' }] } }],
    ],
  ];
  for (const [form, ops] of forms) {
    it(`PATCH (${form}) changes the role and answers it`, async () => {
      const id = await createUser();
      const res = await patch(id, ...ops('agent'));
      expect(res.status).toBe(200);
      expect(res.body.roles).toEqual([{ value: 'Agent', primary: true }]);
      expect(res.body[LOOPIT].role).toBe('Agent');
      expect(await roleOf(id)).toBe('Agent');
    });

    it(`PATCH (${form}) of a role that does not exist is 400 invalidValue and changes nothing`, async () => {
      const id = await createUser({ roles: [{ value: 'Viewer' }] });
      const res = await patch(id, ...ops('Superuser'));
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      expect(res.body.detail).toContain('Superuser');
      expect(await roleOf(id)).toBe('Viewer');
    });
  }

  it('PATCH remove of roles gives the default role', async () => {
    const id = await createUser({ roles: [{ value: 'Viewer' }] });
    const res = await patch(id, { op: 'remove', path: 'roles' });
    expect(res.status).toBe(200);
    expect(await roleOf(id)).toBe('Admin');
  });

  it('demoting an admin through roles takes effect (the case that answered 200 and changed nothing)', async () => {
    const id = await createUser({ roles: [{ value: 'Admin', primary: true }] });
    expect((await patch(id, { op: 'replace', path: 'roles', value: [{ value: 'Viewer' }] })).status).toBe(
      200,
    );
    expect(await roleOf(id)).toBe('Viewer');
  });
});

describe('value filters compare "True"/"False" as booleans', () => {
  it('replace of emails[primary eq "True"].value changes the primary e-mail', async () => {
    const id = await createUser({
      emails: [{ value: 'old.primary@example.com', type: 'work', primary: true }],
    });
    const res = await patch(id, {
      op: 'Replace',
      path: 'emails[primary eq "True"].value',
      value: 'new.primary@example.com',
    });
    expect(res.status).toBe(200);
    expect(res.body.emails).toEqual([{ value: 'new.primary@example.com', type: 'work', primary: true }]);
    expect((await rest('GET', `/v1/users/${id}`)).body.email).toBe('new.primary@example.com');
  });

  it('the same filter matches in a query', async () => {
    const id = await createUser({
      emails: [{ value: 'query.primary@example.com', type: 'work', primary: true }],
    });
    const filter = encodeURIComponent('emails[primary eq "True" and value eq "query.primary@example.com"]');
    const res = await scim('GET', `/Users?filter=${filter}`);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});

describe('what /Schemas declares is what a generic client can send', () => {
  it('a POST with only schemas and a userName that is not an e-mail creates a user named by its userName', async () => {
    const res = await scim('POST', '/Users', { schemas: [CORE], userName: 'jdoe' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userName: 'jdoe', displayName: 'jdoe', active: true });
    expect(res.body.emails).toBeUndefined();
    const user = await rest('GET', `/v1/users/${res.body.id as string}`);
    expect(user.body).toMatchObject({ userName: 'jdoe', email: null, name: 'jdoe', status: 'active' });
  });

  it('name.formatted and displayName are stored each as sent', async () => {
    const id = await createUser({
      displayName: 'Jo',
      name: { givenName: 'Joanna', familyName: 'Doe', formatted: 'Ms Joanna Doe' },
    });
    const res = await scim('GET', `/Users/${id}`);
    expect(res.body.displayName).toBe('Jo');
    expect(res.body.name).toEqual({ givenName: 'Joanna', familyName: 'Doe', formatted: 'Ms Joanna Doe' });
    const again = await scim('PUT', `/Users/${id}`, res.body);
    expect(again.body.meta.version).toBe(res.body.meta.version);
  });
});

describe('locations the identity provider sends', () => {
  it('a location the workspace lacks is created, audited with source scim, and set', async () => {
    const id = await createUser({ [LOOPIT]: { location: 'Zürich HQ' } });
    const user = await rest('GET', `/v1/users/${id}`);
    expect(user.body.location.name).toBe('Zürich HQ');
    const locations = await rest('GET', '/v1/locations');
    expect(locations.body.data.map((l: { name: string }) => l.name)).toContain('Zürich HQ');
    const audit = await rest('GET', '/v1/audit?limit=1000');
    const event = audit.body.data.find(
      (e: { action: string; targetId: string }) =>
        e.action === 'location.created' && e.targetId === user.body.location.id,
    );
    expect(event).toMatchObject({ source: 'scim', changes: { name: { from: null, to: 'Zürich HQ' } } });
    // The same name in another case is the same location.
    const other = await createUser({ [LOOPIT]: { location: 'zürich hq' } });
    expect((await rest('GET', `/v1/users/${other}`)).body.location.id).toBe(user.body.location.id);
  });

  it('with scimCreatesLocations off, an unknown location is 400 invalidValue naming the known ones', async () => {
    const off = await rest('PATCH', '/v1/settings', { scimCreatesLocations: false });
    expect(off.status).toBe(200);
    expect(off.body.scimCreatesLocations).toBe(false);
    try {
      const res = await scim('POST', '/Users', {
        schemas: [CORE],
        userName: 'nolocation@example.com',
        [LOOPIT]: { location: 'Atlantis' },
      });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      expect(res.body.detail).toContain('London');
      const locations = await rest('GET', '/v1/locations');
      expect(locations.body.data.map((l: { name: string }) => l.name)).not.toContain('Atlantis');
    } finally {
      await rest('PATCH', '/v1/settings', { scimCreatesLocations: true });
    }
  });
});

describe('robustness', () => {
  it('a PATCH of one attribute succeeds on a user whose stored attributes predate the model checks', async () => {
    const id = await createUser({ title: 'Driver' });
    // Stored as sent by an earlier version, which kept unknown sub-attributes.
    await sql`update users set attributes = attributes || ${JSON.stringify({
      phoneNumbers: [{ value: '+44 20 7946 0000', type: 'work', extension: '12' }],
    })}::jsonb where id = ${id}`.execute(ctx.db);
    const res = await patch(id, { op: 'replace', path: 'title', value: 'Senior Driver' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const read = await scim('GET', `/Users/${id}`);
    expect(read.body.title).toBe('Senior Driver');
    expect(read.body.phoneNumbers).toEqual([{ value: '+44 20 7946 0000', type: 'work', extension: '12' }]);
    // A new value is checked all the same.
    const bad = await patch(id, { op: 'add', path: 'phoneNumbers', value: [{ value: '1', extension: '2' }] });
    expect(bad.status).toBe(400);
  });

  it('GET /Users/ (trailing slash) is the collection', async () => {
    const res = await scim('GET', '/Users/?count=1');
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
  });

  it('a POST /Users whose schemas name the Group schema is 400 invalidValue and creates nothing', async () => {
    const res = await scim('POST', '/Users', { schemas: [GROUP], userName: 'group.as.user@example.com' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const list = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "group.as.user@example.com"')}`,
    );
    expect(list.body.totalResults).toBe(0);
  });

  it('a POST /Groups whose schemas name the User schema is 400 invalidValue', async () => {
    const res = await scim('POST', '/Groups', { schemas: [CORE], displayName: 'Not a group' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it("Entra's full-sync filter with year 0001 is accepted and matches every user", async () => {
    await createUser();
    const filter = encodeURIComponent('meta.lastModified ge "0001-01-03T00:00:00.0000000Z"');
    const res = await scim('GET', `/Users?filter=${filter}&count=0`);
    expect(res.status).toBe(200);
    const all = await scim('GET', '/Users?count=0');
    expect(res.body.totalResults).toBe(all.body.totalResults);
    const zero = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('meta.created gt "0000-01-01T00:00:00Z"')}`,
    );
    expect(zero.status).toBe(400);
    expect(zero.body.scimType).toBe('invalidFilter');
  });
});
