import { beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../src/provisioning/engine.js';
import { call, useTestContext, type Call } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { loadFlow, replaySender, type Replay } from './support/scim-replay.js';

/*
 * SCIM Groups are Loopit roles: Okta's and Entra ID's group push replayed request by request
 * (fixtures/scim/okta-groups, fixtures/scim/entra-groups), then the effective-role rule, PATCH forms,
 * filters, concurrency, deletion and tenant isolation.
 */

const PUBLIC_URL = 'https://provision.example.com';
const BASE = `${PUBLIC_URL}/scim/v2`;
const ctx = useTestContext({ PUBLIC_URL });
const send = replaySender(() => ctx.app, BASE);

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Workspace {
  workspaceId: string;
  token: string;
  scim: string;
}

async function workspace(roles = ['Admin', 'Customer Success']): Promise<Workspace> {
  const ws = await makeWorkspace(ctx.db, { roles, locations: ['London'] });
  return { ...ws, scim: await makeToken(ctx.db, ws.workspaceId, ['scim']) };
}

const scim = (
  ws: Workspace,
  method: Method,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  call(ctx.app, method, `/scim/v2${path}`, {
    token: ws.scim,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json', ...headers },
  });

const rest = (ws: Workspace, method: Method, path: string, body?: unknown) =>
  call(ctx.app, method, path, { token: ws.token, ...(body !== undefined ? { body } : {}) });

let seq = 0;
async function user(ws: Workspace, over: Record<string, unknown> = {}): Promise<string> {
  seq += 1;
  const res = await scim(ws, 'POST', '/Users', {
    schemas: [CORE_USER],
    userName: `group.user${seq}@example.com`,
    name: { givenName: `Given${seq}`, familyName: `Family${seq}` },
    active: true,
    ...over,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function group(ws: Workspace, displayName: string, members: string[] = []): Promise<string> {
  const res = await scim(ws, 'POST', '/Groups', {
    schemas: [CORE_GROUP],
    displayName,
    members: members.map((value) => ({ value })),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const patch = (ws: Workspace, id: string, ...Operations: unknown[]) =>
  scim(ws, 'PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations });

async function roleOf(ws: Workspace, userId: string): Promise<string> {
  const res = await rest(ws, 'GET', `/v1/users/${userId}`);
  expect(res.status).toBe(200);
  return res.body.role.name as string;
}

async function memberIds(ws: Workspace, groupId: string): Promise<string[]> {
  const res = await scim(ws, 'GET', `/Groups/${groupId}`);
  expect(res.status).toBe(200);
  return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

async function setRank(ws: Workspace, roleId: string, rank: number): Promise<Call> {
  const res = await rest(ws, 'PATCH', `/v1/roles/${roleId}`, { rank });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

describe('Okta: group push as Okta sends it (SCIM 2.0 protocol reference, Groups)', () => {
  const flow = loadFlow('okta-groups');
  let ws: Workspace;
  const replay: Replay = {
    token: '',
    vars: { userName: 'test.user@okta.local', baseUrl: BASE },
    captures: { '01-create-user.json': 'id', '03-create-group.json': 'groupId' },
    versions: new Map(),
  };
  // The user's Loopit role after the step: the group's role while a member, else the default (Admin).
  const roles: Record<string, string> = {
    '01-create-user.json': 'Admin',
    '06-add-member.json': 'Test SCIMv2 Renamed',
    '07-add-member-again.json': 'Test SCIMv2 Renamed',
    '10-remove-member.json': 'Admin',
  };

  beforeAll(async () => {
    ws = await workspace();
    replay.token = ws.scim;
  });

  it('has the steps create, rename, add, remove and delete', () => {
    expect(flow.map((f) => `${f.step.method} ${f.file}`)).toEqual(
      expect.arrayContaining([
        'POST 03-create-group.json',
        'PATCH 05-rename-group.json',
        'PATCH 06-add-member.json',
        'PATCH 10-remove-member.json',
        'DELETE 12-delete-group.json',
      ]),
    );
  });

  for (const { file, step } of flow) {
    it(`${file}: ${step.method} ${step.path}`, async () => {
      await send(replay, file, step);
      if (roles[file]) expect(await roleOf(ws, replay.vars.id!)).toBe(roles[file]);
    });
  }

  it('the deleted group is no longer a role of the workspace', async () => {
    const res = await rest(ws, 'GET', '/v1/roles');
    expect(res.body.data.map((r: { name: string }) => r.name).sort()).toEqual(['Admin', 'Customer Success']);
  });
});

describe('Microsoft Entra ID: group push as Entra sends it', () => {
  const flow = loadFlow('entra-groups');
  let ws: Workspace;
  const replay: Replay = {
    token: '',
    vars: { userName: 'AlexW@contoso.onmicrosoft.com', baseUrl: BASE },
    captures: { '01-create-user.json': 'id', '03-create-group.json': 'groupId' },
    versions: new Map(),
  };
  // Set directly to Customer Success at creation; the group decides while the user is in it.
  const roles: Record<string, string> = {
    '01-create-user.json': 'Customer Success',
    '06-add-member.json': 'Fleet Managers',
    '08-rename-group.json': 'Fleet Managers EMEA',
    '09-remove-member.json': 'Customer Success',
  };

  beforeAll(async () => {
    ws = await workspace();
    replay.token = ws.scim;
  });

  for (const { file, step } of flow) {
    it(`${file}: ${step.method} ${step.path}`, async () => {
      const res = await send(replay, file, step);
      if (step.path.includes('excludedAttributes=members') && res.status === 200) {
        const resources = (res.body.Resources ?? [res.body]) as Record<string, unknown>[];
        for (const r of resources) expect(r).not.toHaveProperty('members');
      }
      if (roles[file]) expect(await roleOf(ws, replay.vars.id!)).toBe(roles[file]);
    });
  }
});

describe('the effective role: highest-ranked group, else the direct role, else the default', () => {
  let ws: Workspace;
  let ids: Record<string, string>;

  beforeAll(async () => {
    ws = await workspace(['Viewer', 'Agent', 'Manager']);
    const roles = await rest(ws, 'GET', '/v1/roles');
    ids = Object.fromEntries(roles.body.data.map((r: { name: string; id: string }) => [r.name, r.id]));
    await setRank(ws, ids.Agent!, 10);
    await setRank(ws, ids.Manager!, 20);
  });

  it('a user in several groups gets the highest-ranked one, whatever order they joined in', async () => {
    const u = await user(ws, { [LOOPIT]: { role: 'Agent' } });
    expect(await roleOf(ws, u)).toBe('Agent');
    const low = await group(ws, 'Drivers', [u]); // rank 0, below the direct role: a group still decides
    expect(await roleOf(ws, u)).toBe('Drivers');
    expect(
      (await patch(ws, ids.Manager!, { op: 'add', path: 'members', value: [{ value: u }] })).status,
    ).toBe(204);
    expect(await roleOf(ws, u)).toBe('Manager');
    expect((await patch(ws, ids.Agent!, { op: 'add', path: 'members', value: [{ value: u }] })).status).toBe(
      204,
    );
    expect(await roleOf(ws, u)).toBe('Manager');
    const resource = await scim(ws, 'GET', `/Users/${u}`);
    expect(resource.body[LOOPIT].role).toBe('Manager');
    expect((resource.body.groups as { display: string }[]).map((g) => g.display)).toEqual([
      'Agent',
      'Drivers',
      'Manager',
    ]);

    expect((await patch(ws, ids.Manager!, { op: 'remove', path: `members[value eq "${u}"]` })).status).toBe(
      204,
    );
    expect(await roleOf(ws, u)).toBe('Agent');
    await patch(ws, ids.Agent!, { op: 'remove', path: `members[value eq "${u}"]` });
    await patch(ws, low, { op: 'remove', path: `members[value eq "${u}"]` });
    expect(await roleOf(ws, u)).toBe('Agent'); // the direct role again
  });

  it('ties in rank go to the role whose name sorts first, so the choice is predictable', async () => {
    const u = await user(ws);
    await group(ws, 'Zulu', [u]);
    await group(ws, 'Alpha', [u]);
    expect(await roleOf(ws, u)).toBe('Alpha');
  });

  it('changing a role’s rank moves its members, with an audit event per user whose role changed', async () => {
    const u = await user(ws);
    const a = await group(ws, 'Dispatch', [u]);
    const b = await group(ws, 'Workshop', [u]);
    expect(await roleOf(ws, u)).toBe('Dispatch');
    await setRank(ws, b, 5);
    expect(await roleOf(ws, u)).toBe('Workshop');
    await setRank(ws, a, 6);
    expect(await roleOf(ws, u)).toBe('Dispatch');
    const audit = await rest(ws, 'GET', `/v1/audit?userId=${u}`);
    const changes = audit.body.data.filter((e: { action: string }) => e.action === 'user.role_changed');
    expect(changes.length).toBeGreaterThanOrEqual(3);
    expect(changes[0]).toMatchObject({
      changes: { role_id: { from: b, to: a } },
      details: { reason: 'role_rank' },
    });
  });

  it('REST and CSV cannot change a role that comes from groups; sending the current role is fine', async () => {
    const u = await user(ws, { userName: 'managed.role@example.com' });
    await group(ws, 'Night Shift', [u]);
    const refused = await rest(ws, 'PATCH', `/v1/users/${u}`, { role: 'Viewer' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('role_managed_by_identity_provider');
    const same = await rest(ws, 'PATCH', `/v1/users/${u}`, { role: 'night shift', familyName: 'Renamed' });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.body.role.name).toBe('Night Shift');

    const [row] = await provision(
      ctx.db,
      ws.workspaceId,
      [
        {
          key: '2',
          email: 'managed.role@example.com',
          givenName: 'Given',
          familyName: 'Family',
          role: 'Agent',
        },
      ],
      { mode: 'upsert', dryRun: false, sendInvites: false, source: 'csv:test', actor: 'test' },
    );
    expect(row).toMatchObject({ status: 'failed', errorCode: 'role_managed_by_identity_provider' });
    expect(await roleOf(ws, u)).toBe('Night Shift');
  });

  it('SCIM may set the direct role of a grouped user: it applies once the user leaves the groups', async () => {
    const u = await user(ws);
    const g = await group(ws, 'Yard', [u]);
    const res = await scim(ws, 'PATCH', `/Users/${u}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: `${LOOPIT}:role`, value: 'Manager' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body[LOOPIT].role).toBe('Yard');
    await patch(ws, g, { op: 'remove', path: 'members', value: [{ value: u }] });
    expect(await roleOf(ws, u)).toBe('Manager');
  });
});

describe('PATCH, PUT and POST of groups', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await workspace();
  });

  it('adds several members in one operation, repeated adds and removes of non-members change nothing', async () => {
    const [a, b, c] = [await user(ws), await user(ws), await user(ws)];
    const g = await group(ws, 'Repeat', [a]);
    expect(
      (await patch(ws, g, { op: 'add', path: 'members', value: [{ value: a }, { value: b }] })).status,
    ).toBe(204);
    expect((await patch(ws, g, { op: 'add', path: 'members', value: [{ value: b }] })).status).toBe(204);
    expect((await patch(ws, g, { op: 'remove', path: `members[value eq "${c}"]` })).status).toBe(204);
    expect(await memberIds(ws, g)).toEqual([a, b].sort());
  });

  it('applies operations in order: add then remove of the same member leaves it out', async () => {
    const [a, b] = [await user(ws), await user(ws)];
    const g = await group(ws, 'Ordered');
    const res = await patch(
      ws,
      g,
      { op: 'add', path: 'members', value: [{ value: a }, { value: b }] },
      { op: 'remove', path: `members[value eq "${a}" or value eq "${b}"]` },
      { op: 'add', path: 'members', value: [{ value: b }] },
    );
    expect(res.status).toBe(204);
    expect(await memberIds(ws, g)).toEqual([b]);
  });

  it('replace of members sets them; remove with path members and no value empties the group', async () => {
    const [a, b, c] = [await user(ws), await user(ws), await user(ws)];
    const g = await group(ws, 'Replaced', [a, b]);
    await patch(ws, g, { op: 'replace', path: 'members', value: [{ value: c }, { value: b }] });
    expect(await memberIds(ws, g)).toEqual([b, c].sort());
    await patch(ws, g, { op: 'remove', path: 'members' });
    expect(await memberIds(ws, g)).toEqual([]);
    expect(await roleOf(ws, a)).toBe('Admin');
  });

  it('answers 200 with the group when the PATCH asks for attributes', async () => {
    const a = await user(ws);
    const g = await group(ws, 'Answered');
    const res = await call(ctx.app, 'PATCH', `/scim/v2/Groups/${g}?excludedAttributes=members`, {
      token: ws.scim,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: g, displayName: 'Answered' });
    expect(res.body).not.toHaveProperty('members');
    expect(res.headers.etag).toBe(res.body.meta.version);
  });

  it('is atomic: an unknown member fails the whole PATCH with 400 invalidValue naming it', async () => {
    const a = await user(ws);
    const g = await group(ws, 'Atomic');
    const unknown = '0190a3c4-0000-7000-8000-000000000001';
    const res = await patch(
      ws,
      g,
      { op: 'replace', path: 'displayName', value: 'Atomic Renamed' },
      { op: 'add', path: 'members', value: [{ value: a }, { value: unknown }] },
    );
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(res.body.detail).toContain(unknown);
    const after = await scim(ws, 'GET', `/Groups/${g}`);
    expect(after.body).toMatchObject({ displayName: 'Atomic', members: [] });
  });

  it.each([
    [{ op: 'add', path: 'members', value: [{ value: 'not-a-uuid' }] }, 'invalidValue'],
    [
      {
        op: 'add',
        path: 'members',
        value: [{ value: '0190a3c4-0000-7000-8000-000000000002', type: 'Group' }],
      },
      'invalidValue',
    ],
    [{ op: 'remove', path: 'displayName' }, 'mutability'],
    [{ op: 'replace', value: { id: '0190a3c4-0000-7000-8000-000000000003' } }, 'mutability'],
    [{ op: 'replace', path: 'members[display eq "x"]', value: [] }, 'invalidFilter'],
    [{ op: 'add', path: 'owners', value: 'x' }, 'invalidPath'],
    [{ op: 'move', path: 'members' }, 'invalidSyntax'],
    [{ op: 'remove' }, 'noTarget'],
  ])('refuses %j with 400 %s', async (operation, scimType) => {
    const g = await group(ws, `Refuses ${scimType} ${seq++}`);
    const res = await patch(ws, g, operation);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.scimType).toBe(scimType);
  });

  it('PUT replaces name, externalId and members; members not sent are removed', async () => {
    const [a, b] = [await user(ws), await user(ws)];
    const g = await group(ws, 'Put Me', [a]);
    const res = await scim(ws, 'PUT', `/Groups/${g}`, {
      schemas: [CORE_GROUP],
      displayName: 'Put Me Too',
      externalId: 'ext-1',
      members: [{ value: b }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ displayName: 'Put Me Too', externalId: 'ext-1' });
    expect(res.headers.etag).toBe(res.body.meta.version);
    expect(await memberIds(ws, g)).toEqual([b]);
    const bare = await scim(ws, 'PUT', `/Groups/${g}?attributes=members`, {
      schemas: [CORE_GROUP],
      displayName: 'Put Me Too',
    });
    expect(bare.body.members).toEqual([]);
    expect(bare.body).not.toHaveProperty('externalId');
  });

  it('answers PUT and PATCH without members unless attributes names them', async () => {
    const [a, b] = [await user(ws), await user(ws)];
    const g = await group(ws, 'Answers', [a]);
    const put = (query: string) =>
      scim(ws, 'PUT', `/Groups/${g}${query}`, {
        schemas: [CORE_GROUP],
        displayName: 'Answers',
        members: [{ value: a }, { value: b }],
      });
    expect((await put('')).body).not.toHaveProperty('members');
    expect((await put('?excludedAttributes=externalId')).body).not.toHaveProperty('members');
    const asked = await put('?attributes=members.value');
    expect(asked.body.members).toEqual(expect.arrayContaining([{ value: a }, { value: b }]));
    expect(asked.body.members).toHaveLength(2);
    const patched = await call(ctx.app, 'PATCH', `/scim/v2/Groups/${g}?attributes=displayName,members`, {
      token: ws.scim,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${a}"]` }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'Answers', members: [{ value: b, type: 'User' }] });
    const renamed = await call(ctx.app, 'PATCH', `/scim/v2/Groups/${g}?excludedAttributes=externalId`, {
      token: ws.scim,
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Answers Again' }],
      },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ displayName: 'Answers Again' });
    expect(renamed.body).not.toHaveProperty('members');
  });

  it('POST with a name already taken (ignoring case) is 409 uniqueness; so is a rename onto one', async () => {
    await group(ws, 'Taken');
    const res = await scim(ws, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'TAKEN' });
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe('uniqueness');
    const other = await group(ws, 'Other');
    const rename = await patch(ws, other, { op: 'replace', path: 'displayName', value: 'taken' });
    expect(rename.status).toBe(409);
    expect(rename.body.scimType).toBe('uniqueness');
  });

  it('honours If-Match: a stale version is 412 and changes nothing', async () => {
    const g = await group(ws, 'Versioned');
    const first = await scim(ws, 'GET', `/Groups/${g}`);
    await patch(ws, g, { op: 'replace', path: 'externalId', value: 'x' });
    const stale = await scim(
      ws,
      'PATCH',
      `/Groups/${g}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Stale' }] },
      { 'if-match': first.headers.etag as string },
    );
    expect(stale.status).toBe(412);
    expect((await scim(ws, 'GET', `/Groups/${g}`)).body.displayName).toBe('Versioned');
    const current = await scim(ws, 'GET', `/Groups/${g}`, undefined, {
      'if-none-match': first.headers.etag as string,
    });
    expect(current.status).toBe(200);
  });

  it('concurrent membership PATCHes never lose a member', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => user(ws)));
    const g = await group(ws, 'Concurrent');
    const results = await Promise.all(
      users.map((u) => patch(ws, g, { op: 'add', path: 'members', value: [{ value: u }] })),
    );
    expect(results.map((r) => r.status)).toEqual(users.map(() => 204));
    // Each 204's ETag is the version its own write committed: twelve writes, twelve distinct versions.
    const etags = results.map((r) => r.headers.etag as string);
    expect(new Set(etags).size, etags.join(' ')).toBe(users.length);
    const last = await scim(ws, 'GET', `/Groups/${g}?excludedAttributes=members`);
    const versions = etags.map((e) => Number(/"(\d+)"/.exec(e)?.[1]));
    expect(last.headers.etag).toBe(`W/"${Math.max(...versions)}"`);
    expect(await memberIds(ws, g)).toEqual([...users].sort());
    for (const u of users.slice(0, 3)) expect(await roleOf(ws, u)).toBe('Concurrent');
  });
});

describe('DELETE of groups', () => {
  it('members fall back; users whose direct role it was get the default; the default role’s group is refused', async () => {
    const ws = await workspace(['Admin', 'Agent']);
    const roles = await rest(ws, 'GET', '/v1/roles');
    const admin = roles.body.data.find((r: { name: string }) => r.name === 'Admin').id as string;
    const agent = roles.body.data.find((r: { name: string }) => r.name === 'Agent').id as string;
    const direct = await user(ws, { [LOOPIT]: { role: 'Agent' } });
    const member = await user(ws);
    await patch(ws, agent, { op: 'add', path: 'members', value: [{ value: member }] });
    const other = await group(ws, 'Other', [direct]);
    expect(await roleOf(ws, member)).toBe('Agent');

    const refused = await scim(ws, 'DELETE', `/Groups/${admin}`);
    expect(refused.status).toBe(400);
    expect(refused.body.scimType).toBe('mutability');

    expect((await scim(ws, 'DELETE', `/Groups/${agent}`)).status).toBe(204);
    expect(await roleOf(ws, member)).toBe('Admin');
    expect(await roleOf(ws, direct)).toBe('Other');
    await patch(ws, other, { op: 'remove', path: 'members' });
    expect(await roleOf(ws, direct)).toBe('Admin'); // its direct role went with the group: the default
    expect((await scim(ws, 'GET', `/Groups/${agent}`)).status).toBe(404);
    expect((await scim(ws, 'DELETE', `/Groups/${agent}`)).status).toBe(404);

    const audit = await rest(ws, 'GET', '/v1/audit?action=group.deleted');
    expect(audit.body.data[0]).toMatchObject({
      targetType: 'group',
      targetId: agent,
      changes: { name: { from: 'Agent', to: null } },
    });
  });

  it('a deleted user leaves its groups', async () => {
    const ws = await workspace();
    const u = await user(ws);
    const g = await group(ws, 'Leavers', [u]);
    expect((await scim(ws, 'DELETE', `/Users/${u}`)).status).toBe(204);
    expect(await memberIds(ws, g)).toEqual([]);
  });
});

describe('lists and filters of groups', () => {
  let ws: Workspace;
  let fleet: string;
  let member: string;
  beforeAll(async () => {
    ws = await workspace();
    member = await user(ws);
    fleet = await group(ws, 'Fleet Ops', [member]);
    await patch(ws, fleet, { op: 'replace', path: 'externalId', value: 'okta-00g1' });
    await group(ws, 'Fleet Sales');
  });

  const names = (res: Call) =>
    (res.body.Resources as { displayName: string }[]).map((r) => r.displayName).sort();
  const list = (filter: string, more = '') =>
    scim(ws, 'GET', `/Groups?filter=${encodeURIComponent(filter)}${more}`);

  it('filters by displayName ignoring case, co and sw, externalId, id and members', async () => {
    expect(names(await list('displayName eq "fleet ops"'))).toEqual(['Fleet Ops']);
    expect(names(await list('displayName sw "Fleet"'))).toEqual(['Fleet Ops', 'Fleet Sales']);
    expect(names(await list('displayName co "sales"'))).toEqual(['Fleet Sales']);
    expect(names(await list('externalId eq "okta-00g1"'))).toEqual(['Fleet Ops']);
    expect(names(await list(`id eq "${fleet}"`))).toEqual(['Fleet Ops']);
    expect(names(await list(`members[value eq "${member}"]`))).toEqual(['Fleet Ops']);
    expect(names(await list(`members.value eq "${member}"`))).toEqual(['Fleet Ops']);
    expect(names(await list('members pr'))).toEqual(['Fleet Ops']);
    expect(names(await list('not (members pr) and displayName sw "fleet"'))).toEqual(['Fleet Sales']);
  });

  it('refuses unknown attributes and bad syntax with 400 invalidFilter', async () => {
    for (const filter of ['userName eq "x"', 'displayName eq fleet', 'displayName eq "x" and (']) {
      const res = await list(filter);
      expect(res.status, filter).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    }
  });

  it('pages with startIndex and count, sorts by displayName, and leaves members out when excluded', async () => {
    const all = await scim(ws, 'GET', '/Groups?sortBy=displayName&sortOrder=descending&count=2&startIndex=2');
    expect(all.body).toMatchObject({ totalResults: 4, itemsPerPage: 2, startIndex: 2 });
    expect(all.body.Resources.map((r: { displayName: string }) => r.displayName)).toEqual([
      'Fleet Ops',
      'Customer Success',
    ]);
    const lean = await scim(ws, 'GET', '/Groups?excludedAttributes=members');
    for (const r of lean.body.Resources) expect(r).not.toHaveProperty('members');
    const only = await scim(ws, 'GET', `/Groups/${fleet}?attributes=displayName`);
    expect(Object.keys(only.body).sort()).toEqual(['displayName', 'id', 'schemas']);
    const search = await scim(ws, 'POST', '/Groups/.search', { filter: 'displayName eq "Fleet Sales"' });
    expect(names(search)).toEqual(['Fleet Sales']);
  });
});

describe('tenant isolation', () => {
  it('another workspace’s groups are 404 and its users cannot be added', async () => {
    const mine = await workspace();
    const theirs = await workspace();
    const theirUser = await user(theirs);
    const theirGroup = await group(theirs, 'Theirs', [theirUser]);
    expect((await scim(mine, 'GET', `/Groups/${theirGroup}`)).status).toBe(404);
    expect((await patch(mine, theirGroup, { op: 'remove', path: 'members' })).status).toBe(404);
    expect((await scim(mine, 'DELETE', `/Groups/${theirGroup}`)).status).toBe(404);
    const list = await scim(mine, 'GET', '/Groups?filter=displayName%20eq%20%22Theirs%22');
    expect(list.body.totalResults).toBe(0);
    const g = await group(mine, 'Mine');
    const res = await patch(mine, g, { op: 'add', path: 'members', value: [{ value: theirUser }] });
    expect(res.status).toBe(400);
    expect(await memberIds(theirs, theirGroup)).toEqual([theirUser]);
  });
});
