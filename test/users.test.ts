import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeUser, makeWorkspace } from './support/factories.js';

const ctx = useTestContext();
let a: { workspaceId: string; token: string };
let b: { workspaceId: string; token: string };

beforeAll(async () => {
  a = await makeWorkspace(ctx.db, {
    roles: ['Admin', 'Customer Success'],
    locations: ['London', 'São Paulo'],
  });
  b = await makeWorkspace(ctx.db, { roles: ['Owner'] });
});

const newUser = (overrides: Record<string, unknown> = {}, token = a.token) =>
  makeUser(ctx.app, token, overrides);

describe('POST /v1/users', () => {
  it('creates an invited user with 201, Location, ETag and a pending invitation', async () => {
    const res = await newUser({
      name: '  Ann  Lee ',
      email: ' Ann.Lee+crm@Example.com ',
      role: 'customer success',
      location: 'SÃO PAULO',
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/users/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({
      userName: 'Ann.Lee+crm@Example.com',
      email: 'Ann.Lee+crm@Example.com',
      name: 'Ann Lee',
      role: { name: 'Customer Success' },
      location: { name: 'São Paulo' },
      status: 'invited',
      externalId: null,
      managedBy: null,
      invitation: { status: 'pending', sentAt: null, expiresAt: expect.any(String) },
      version: 1,
    });
    const expires = new Date(res.body.invitation.expiresAt).getTime();
    expect(Math.abs(expires - (Date.now() + 7 * 86_400_000))).toBeLessThan(60_000);
  });

  it('takes givenName and familyName and joins them as the name', async () => {
    const res = await newUser({ name: undefined, givenName: 'Bo', familyName: 'Ek' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Bo Ek', givenName: 'Bo', familyName: 'Ek' });
  });

  it('creates no invitation when sendInvite is false', async () => {
    const res = await newUser({ sendInvite: false });
    expect(res.body).toMatchObject({ status: 'invited', invitation: null });
  });

  it('answers 409 email_taken for an e-mail that exists in another case', async () => {
    await newUser({ email: 'dup@example.com' });
    const res = await newUser({ email: 'DUP@Example.COM' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'email_taken' });
  });

  it.each([
    [{ email: 'not-an-email' }, 400, 'invalid_email', 'email'],
    [{ email: 'josé@example.com' }, 400, 'invalid_email', 'email'],
    [{ email: `${'a'.repeat(65)}@example.com` }, 400, 'invalid_email', 'email'],
    [{ email: 'a..b@example.com' }, 400, 'invalid_email', 'email'],
    [{ email: '' }, 400, 'missing_email', 'email'],
    [{ name: 'x'.repeat(201) }, 400, 'name_too_long', 'displayName'],
    [{ name: undefined }, 400, 'missing_name', 'name'],
    [{ role: 'Sales' }, 422, 'unknown_role', 'role'],
    [{ location: 'Atlantis' }, 422, 'unknown_location', 'location'],
    [{ role: undefined }, 400, 'validation_failed', 'role'],
    [{ nickname: 'x' }, 400, 'validation_failed', 'nickname'],
  ])('refuses %j with %i %s naming the field', async (overrides, status, code, field) => {
    const res = await newUser(overrides);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, field });
  });

  it('says which roles exist when the role is unknown', async () => {
    const res = await newUser({ role: 'Sales' });
    expect(res.body.error.message).toBe(
      "Role 'Sales' does not exist in this workspace; existing roles: Admin, Customer Success.",
    );
  });
});

describe('GET /v1/users', () => {
  it('filters by status, role (by name), location and a search string, and pages', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Viewer'], locations: ['Berlin'] });
    const make = (body: Record<string, unknown>) =>
      call(ctx.app, 'POST', '/v1/users', { token: ws.token, body });
    await make({ name: 'Carla Diaz', email: 'carla@example.com', role: 'Admin', location: 'Berlin' });
    await make({ name: 'Dan Ek', email: 'dan@example.com', role: 'Viewer' });
    const eve = await make({ name: 'Eve Fox', email: 'eve@example.com', role: 'viewer' });
    await call(ctx.app, 'PATCH', `/v1/users/${eve.body.id}`, {
      token: ws.token,
      body: { status: 'deactivated' },
    });
    const names = async (qs: string) =>
      (await call(ctx.app, 'GET', `/v1/users?${qs}`, { token: ws.token })).body.data.map(
        (u: { name: string }) => u.name,
      );
    expect(await names('')).toEqual(['Carla Diaz', 'Dan Ek', 'Eve Fox']);
    expect(await names('role=VIEWER')).toEqual(['Dan Ek', 'Eve Fox']);
    expect(await names('location=berlin')).toEqual(['Carla Diaz']);
    expect(await names('status=deactivated')).toEqual(['Eve Fox']);
    expect(await names('q=dan')).toEqual(['Dan Ek']);
    expect(await names('q=fox')).toEqual(['Eve Fox']);
    expect(await names('q=100%25')).toEqual([]);
    const page1 = await call(ctx.app, 'GET', '/v1/users?limit=2', { token: ws.token });
    const page2 = await call(ctx.app, 'GET', `/v1/users?limit=2&cursor=${page1.body.nextCursor}`, {
      token: ws.token,
    });
    expect([...page1.body.data, ...page2.body.data].map((u: { name: string }) => u.name)).toEqual([
      'Carla Diaz',
      'Dan Ek',
      'Eve Fox',
    ]);
    expect(page2.body.nextCursor).toBeNull();
    expect((await call(ctx.app, 'GET', '/v1/users?status=gone', { token: ws.token })).status).toBe(400);
  });
});

describe('PATCH /v1/users/:id', () => {
  it('edits name, role and location, bumping the version and the ETag', async () => {
    const created = await newUser();
    const res = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { name: 'Renamed Person', role: 'Admin', location: 'London' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Renamed Person',
      role: { name: 'Admin' },
      location: { name: 'London' },
      version: 2,
    });
    expect(res.headers.etag).toBe('"2"');
    const cleared = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { location: null },
    });
    expect(cleared.body).toMatchObject({ location: null, version: 3 });
  });

  it('answers 412 when If-Match names an old version, and changes nothing', async () => {
    const created = await newUser();
    const res = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { name: 'Too Late' },
      headers: { 'if-match': '"7"' },
    });
    expect(res.status).toBe(412);
    expect(res.body.error.code).toBe('precondition_failed');
    expect((await call(ctx.app, 'GET', `/v1/users/${created.body.id}`, { token: a.token })).body.name).toBe(
      created.body.name,
    );
  });

  it('deactivates (revoking the invitation) and reactivates an invited user with a new invitation', async () => {
    const created = await newUser();
    const off = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { status: 'deactivated' },
    });
    expect(off.body).toMatchObject({ status: 'deactivated', invitation: { status: 'revoked' } });
    const on = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { status: 'active' },
    });
    expect(on.body).toMatchObject({ status: 'invited', invitation: { status: 'pending' } });
  });

  it('returns a user who had accepted to active on reactivation', async () => {
    const created = await newUser();
    await ctx.db
      .updateTable('users')
      .set({ status: 'active', activated_at: new Date() })
      .where('id', '=', created.body.id)
      .execute();
    await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { status: 'deactivated' },
    });
    const on = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { status: 'active' },
    });
    expect(on.body.status).toBe('active');
  });

  it('answers 409 role_managed_by_identity_provider when groups give the role', async () => {
    const created = await newUser();
    const user = await ctx.db
      .selectFrom('users')
      .select(['role_id'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    await ctx.db
      .insertInto('group_memberships')
      .values({ workspace_id: a.workspaceId, role_id: user.role_id, user_id: created.body.id })
      .execute();
    const res = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { role: 'Admin' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('role_managed_by_identity_provider');
    const ok = await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, {
      token: a.token,
      body: { name: 'Still Editable' },
    });
    expect(ok.status).toBe(200);
  });

  it('answers 400 for an empty patch and 404 for an unknown id', async () => {
    const created = await newUser();
    expect(
      (await call(ctx.app, 'PATCH', `/v1/users/${created.body.id}`, { token: a.token, body: {} })).status,
    ).toBe(400);
    const missing = await call(ctx.app, 'PATCH', `/v1/users/${newId()}`, {
      token: a.token,
      body: { name: 'X' },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('user_not_found');
  });
});

describe('DELETE /v1/users/:id', () => {
  it('hides the user from every read and frees the e-mail', async () => {
    const created = await newUser({ email: 'gone@example.com' });
    expect((await call(ctx.app, 'DELETE', `/v1/users/${created.body.id}`, { token: a.token })).status).toBe(
      204,
    );
    expect((await call(ctx.app, 'GET', `/v1/users/${created.body.id}`, { token: a.token })).status).toBe(404);
    expect((await call(ctx.app, 'DELETE', `/v1/users/${created.body.id}`, { token: a.token })).status).toBe(
      404,
    );
    const list = await call(ctx.app, 'GET', '/v1/users?q=gone@', { token: a.token });
    expect(list.body.data).toEqual([]);
    expect((await newUser({ email: 'GONE@example.com' })).status).toBe(201);
  });
});

describe('tenant isolation', () => {
  it('answers 404 to another workspace on every user route and changes nothing', async () => {
    const created = await newUser();
    const id = created.body.id as string;
    const attempts = [
      call(ctx.app, 'GET', `/v1/users/${id}`, { token: b.token }),
      call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: b.token, body: { name: 'Hijack' } }),
      call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: b.token, body: { status: 'deactivated' } }),
      call(ctx.app, 'DELETE', `/v1/users/${id}`, { token: b.token }),
      call(ctx.app, 'POST', `/v1/users/${id}/invitation`, { token: b.token }),
    ];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(404);
    const list = await call(ctx.app, 'GET', '/v1/users', { token: b.token });
    expect(list.body.data.map((u: { id: string }) => u.id)).not.toContain(id);
    const after = await call(ctx.app, 'GET', `/v1/users/${id}`, { token: a.token });
    expect(after.body).toMatchObject({ name: created.body.name, status: 'invited', version: 1 });
    const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${id}`, { token: b.token });
    expect(audit.body.data).toEqual([]);
  });

  it('does not let one workspace use another’s role or location names', async () => {
    const res = await newUser({ role: 'Owner' });
    expect(res.status).toBe(422);
  });

  it('answers 403 to a token without the users scope', async () => {
    const scimOnly = await makeToken(ctx.db, a.workspaceId, ['scim']);
    expect((await call(ctx.app, 'GET', '/v1/users', { token: scimOnly })).status).toBe(403);
    expect(
      (
        await call(ctx.app, 'GET', '/v1/settings', {
          token: await makeToken(ctx.db, a.workspaceId, ['users']),
        })
      ).status,
    ).toBe(403);
  });
});

describe('settings and audit', () => {
  it('reads and changes settings, refusing an unknown default role', async () => {
    const res = await call(ctx.app, 'GET', '/v1/settings', { token: a.token });
    expect(res.body).toMatchObject({
      defaultRole: { name: 'Admin' },
      invitationTtlHours: 168,
      scimSendInvites: false,
      syncThresholdPercent: 10,
      syncThresholdMin: 10,
    });
    const patched = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: a.token,
      body: { defaultRole: 'customer success', invitationTtlHours: 48 },
    });
    expect(patched.body).toMatchObject({ defaultRole: { name: 'Customer Success' }, invitationTtlHours: 48 });
    const bad = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: a.token,
      body: { defaultRole: 'Nobody' },
    });
    expect(bad.status).toBe(422);
    const range = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: a.token,
      body: { syncThresholdPercent: 101 },
    });
    expect(range.status).toBe(400);
    const user = await newUser();
    const expires = new Date(user.body.invitation.expiresAt).getTime();
    expect(Math.abs(expires - (Date.now() + 48 * 3600_000))).toBeLessThan(60_000);
    await call(ctx.app, 'PATCH', '/v1/settings', {
      token: a.token,
      body: { invitationTtlHours: 168, defaultRole: 'Admin' },
    });
  });

  it('records every change as an audit event, newest first, filterable by user and time', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const created = await newUser();
    const id = created.body.id as string;
    await call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: a.token, body: { role: 'Admin' } });
    await call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: a.token, body: { status: 'deactivated' } });
    await call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: a.token, body: { status: 'active' } });
    const res = await call(ctx.app, 'GET', `/v1/audit?userId=${id}&since=${since}`, { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual([
      'user.reactivated',
      'user.deactivated',
      'user.updated',
      'user.created',
    ]);
    const updated = res.body.data[2];
    expect(updated).toMatchObject({
      actor: a.token.slice(0, 13),
      source: 'api',
      targetType: 'user',
      userId: id,
    });
    expect(Object.keys(updated.changes)).toEqual(expect.arrayContaining(['role_id']));
    expect(
      (await call(ctx.app, 'GET', '/v1/audit?since=yesterday', { token: a.token })).body.error.code,
    ).toBe('invalid_since');
  });
});
