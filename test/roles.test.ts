import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

const ctx = useTestContext();
let a: { workspaceId: string; token: string };
let b: { workspaceId: string; token: string };

beforeAll(async () => {
  a = await makeWorkspace(ctx.db, {
    roles: ['Admin', 'Customer Success', 'Viewer'],
    locations: ['London', 'São Paulo'],
  });
  b = await makeWorkspace(ctx.db, { roles: ['Owner'], locations: [] });
});

describe('GET /v1/roles', () => {
  it('lists the workspace roles highest rank first, the first given being the default', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles', { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { name: string }) => r.name)).toEqual([
      'Admin',
      'Customer Success',
      'Viewer',
    ]);
    expect(res.body.data.map((r: { isDefault: boolean }) => r.isDefault)).toEqual([true, false, false]);
    expect(res.body.nextCursor).toBeNull();
  });

  it('pages with limit and cursor without repeating or skipping a role', async () => {
    const first = await call(ctx.app, 'GET', '/v1/roles?limit=2', { token: a.token });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(ctx.app, 'GET', `/v1/roles?limit=2&cursor=${first.body.nextCursor}`, {
      token: a.token,
    });
    expect(second.body.data.map((r: { name: string }) => r.name)).toEqual(['Viewer']);
    expect(second.body.nextCursor).toBeNull();
  });

  it.each(['0', '1001', 'abc', '2.5', '-1'])('answers 400 invalid_limit for limit=%s', async (limit) => {
    const res = await call(ctx.app, 'GET', `/v1/roles?limit=${limit}`, { token: a.token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_limit');
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers 400 invalid_cursor for a cursor it did not issue', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles?cursor=bm9wZQ', { token: a.token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_cursor');
  });

  it('never shows another workspace’s roles', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles', { token: b.token });
    expect(res.body.data.map((r: { name: string }) => r.name)).toEqual(['Owner']);
  });
});

describe('the admin scope on role changes', () => {
  it('answers 403 to a users-only token creating, renaming or re-ranking a role, and lets it list them', async () => {
    const usersOnly = await makeToken(ctx.db, a.workspaceId, ['users']);
    const roleId = (await call(ctx.app, 'GET', '/v1/roles', { token: usersOnly })).body.data[2].id;
    const created = await call(ctx.app, 'POST', '/v1/roles', {
      token: usersOnly,
      body: { name: 'Boss', rank: 99 },
    });
    const ranked = await call(ctx.app, 'PATCH', `/v1/roles/${roleId}`, {
      token: usersOnly,
      body: { rank: 99 },
    });
    for (const res of [created, ranked]) {
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'insufficient_scope', requiredScope: 'admin' });
    }
    const admin = await makeToken(ctx.db, a.workspaceId, ['admin']);
    expect((await call(ctx.app, 'POST', '/v1/roles', { token: admin, body: { name: 'Boss' } })).status).toBe(
      201,
    );
  });
});

describe('POST /v1/roles', () => {
  it('creates a role with 201, trimmed, rank 0 by default', async () => {
    const res = await call(ctx.app, 'POST', '/v1/roles', { token: a.token, body: { name: '  Sales  ' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Sales', rank: 0, isDefault: false, id: expect.any(String) });
  });

  it('answers 409 role_exists when the name exists in another case', async () => {
    const res = await call(ctx.app, 'POST', '/v1/roles', { token: a.token, body: { name: 'ADMIN' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('role_exists');
  });

  it('allows the same name in another workspace', async () => {
    const res = await call(ctx.app, 'POST', '/v1/roles', { token: b.token, body: { name: 'Admin' } });
    expect(res.status).toBe(201);
  });

  it('names the field of a bad body', async () => {
    const missing = await call(ctx.app, 'POST', '/v1/roles', { token: a.token, body: { rank: 3 } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'validation_failed', field: 'name' });
    const unknown = await call(ctx.app, 'POST', '/v1/roles', {
      token: a.token,
      body: { name: 'X', rnak: 3 },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('rnak');
    const blank = await call(ctx.app, 'POST', '/v1/roles', { token: a.token, body: { name: '   ' } });
    expect(blank.status).toBe(400);
    expect(blank.body.error.code).toBe('invalid_name');
    const long = await call(ctx.app, 'POST', '/v1/roles', {
      token: a.token,
      body: { name: 'x'.repeat(201) },
    });
    expect(long.body.error.code).toBe('name_too_long');
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_json');
  });
});

describe('PATCH /v1/roles/:id', () => {
  it('renames a role and changes its rank', async () => {
    const created = await call(ctx.app, 'POST', '/v1/roles', {
      token: a.token,
      body: { name: 'Support', rank: 1 },
    });
    const res = await call(ctx.app, 'PATCH', `/v1/roles/${created.body.id}`, {
      token: a.token,
      body: { name: 'Support Team', rank: 25 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created.body.id, name: 'Support Team', rank: 25 });
    const list = await call(ctx.app, 'GET', '/v1/roles', { token: a.token });
    expect(list.body.data.map((r: { name: string }) => r.name).indexOf('Support Team')).toBe(1);
  });

  it('answers 409 when renaming onto an existing name', async () => {
    const list = await call(ctx.app, 'GET', '/v1/roles', { token: a.token });
    const viewer = list.body.data.find((r: { name: string }) => r.name === 'Viewer');
    const res = await call(ctx.app, 'PATCH', `/v1/roles/${viewer.id}`, {
      token: a.token,
      body: { name: 'customer success' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('role_exists');
  });

  it('answers 404 for another workspace’s role and leaves it unchanged', async () => {
    const owner = (await call(ctx.app, 'GET', '/v1/roles', { token: b.token })).body.data.find(
      (r: { name: string }) => r.name === 'Owner',
    );
    const res = await call(ctx.app, 'PATCH', `/v1/roles/${owner.id}`, {
      token: a.token,
      body: { name: 'Hijacked' },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('role_not_found');
    const after = await call(ctx.app, 'GET', '/v1/roles', { token: b.token });
    expect(after.body.data.map((r: { name: string }) => r.name)).toContain('Owner');
    expect(after.body.data.map((r: { name: string }) => r.name)).not.toContain('Hijacked');
  });

  it('answers 400 for an id that is not a UUID and for an empty patch', async () => {
    expect(
      (await call(ctx.app, 'PATCH', '/v1/roles/not-a-uuid', { token: a.token, body: { rank: 1 } })).status,
    ).toBe(400);
    const list = await call(ctx.app, 'GET', '/v1/roles', { token: a.token });
    expect(
      (await call(ctx.app, 'PATCH', `/v1/roles/${list.body.data[0].id}`, { token: a.token, body: {} }))
        .status,
    ).toBe(400);
  });
});

describe('locations', () => {
  it('lists locations by name and creates one with 201', async () => {
    const created = await call(ctx.app, 'POST', '/v1/locations', {
      token: a.token,
      body: { name: 'Berlin' },
    });
    expect(created.status).toBe(201);
    const res = await call(ctx.app, 'GET', '/v1/locations', { token: a.token });
    expect(res.body.data.map((l: { name: string }) => l.name)).toEqual(['Berlin', 'London', 'São Paulo']);
  });

  it('treats SÃO PAULO as São Paulo (NFC, case-folded) and answers 409', async () => {
    const res = await call(ctx.app, 'POST', '/v1/locations', {
      token: a.token,
      body: { name: 'SA\u0303O PAULO' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('location_exists');
  });

  it('keeps locations per workspace', async () => {
    const res = await call(ctx.app, 'GET', '/v1/locations', { token: b.token });
    expect(res.body.data).toEqual([]);
  });
});

describe('PATCH /v1/locations/:id', () => {
  it('renames a location; its users keep it; a taken name is 409 and another workspace cannot see it', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['Paris', 'Lyon'] });
    const list = await call(ctx.app, 'GET', '/v1/locations', { token: ws.token });
    const paris = list.body.data.find((l: { name: string }) => l.name === 'Paris');
    const user = await call(ctx.app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Pia', email: 'pia@example.com', role: 'Admin', location: 'Paris', sendInvite: false },
    });
    expect(user.status).toBe(201);

    const renamed = await call(ctx.app, 'PATCH', `/v1/locations/${paris.id}`, {
      token: ws.token,
      body: { name: '  Paris Nord ' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: paris.id, name: 'Paris Nord' });
    const after = await call(ctx.app, 'GET', `/v1/users/${user.body.id}`, { token: ws.token });
    expect(after.body.location).toEqual({ id: paris.id, name: 'Paris Nord' });

    const taken = await call(ctx.app, 'PATCH', `/v1/locations/${paris.id}`, {
      token: ws.token,
      body: { name: 'LYON' },
    });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'location_exists']);
    const foreign = await call(ctx.app, 'PATCH', `/v1/locations/${paris.id}`, {
      token: b.token,
      body: { name: 'Mine' },
    });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'location_not_found']);
    const empty = await call(ctx.app, 'PATCH', `/v1/locations/${paris.id}`, {
      token: ws.token,
      body: { name: ' ' },
    });
    expect(empty.status).toBe(400);
    const names = (await call(ctx.app, 'GET', '/v1/locations', { token: ws.token })).body.data.map(
      (l: { name: string }) => l.name,
    );
    expect(names).toEqual(['Lyon', 'Paris Nord']);
  });
});

describe('GET /v1/workspace', () => {
  it("answers the token's own workspace and the token's scopes, for a token of any scope; 401 without one", async () => {
    const ws = await makeWorkspace(ctx.db, { name: 'Acme Cars GmbH' });
    const imports = await makeToken(ctx.db, ws.workspaceId, ['imports']);
    const res = await call(ctx.app, 'GET', '/v1/workspace', { token: imports });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: ws.workspaceId,
      name: 'Acme Cars GmbH',
      tokenPrefix: imports.split('_').slice(0, 2).join('_'),
      scopes: ['imports'],
    });
    expect((await call(ctx.app, 'GET', '/v1/workspace', { token: b.token })).body.id).toBe(b.workspaceId);
    expect((await call(ctx.app, 'GET', '/v1/workspace')).status).toBe(401);
  });
});

describe('the journal of roles and locations', () => {
  it('journals REST creates, renames and re-ranks of roles and locations, each field from and to', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['Rome'] });
    const role = await call(ctx.app, 'POST', '/v1/roles', {
      token: ws.token,
      body: { name: 'Pilot', rank: 5 },
    });
    await call(ctx.app, 'PATCH', `/v1/roles/${role.body.id}`, {
      token: ws.token,
      body: { name: 'Captain', rank: 7 },
    });
    await call(ctx.app, 'PATCH', `/v1/roles/${role.body.id}`, { token: ws.token, body: { rank: 7 } });
    const place = await call(ctx.app, 'POST', '/v1/locations', { token: ws.token, body: { name: 'Milan' } });
    await call(ctx.app, 'PATCH', `/v1/locations/${place.body.id}`, {
      token: ws.token,
      body: { name: 'Milano' },
    });
    const events = (await call(ctx.app, 'GET', '/v1/audit?source=api&limit=100', { token: ws.token })).body
      .data as {
      action: string;
      targetType: string;
      targetId: string;
      changes: unknown;
    }[];
    const mine = events.filter((e) => e.targetId === role.body.id || e.targetId === place.body.id).reverse();
    expect(mine.map((e) => [e.action, e.targetType, e.changes])).toEqual([
      ['group.created', 'group', { name: { from: null, to: 'Pilot' }, rank: { from: null, to: 5 } }],
      ['group.updated', 'group', { name: { from: 'Pilot', to: 'Captain' }, rank: { from: 5, to: 7 } }],
      ['location.created', 'location', { name: { from: null, to: 'Milan' } }],
      ['location.updated', 'location', { name: { from: 'Milan', to: 'Milano' } }],
    ]);
  });
});
