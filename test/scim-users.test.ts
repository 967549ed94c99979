import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let ws: { workspaceId: string; token: string };
let token: string;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London'] });
  token = await makeToken(ctx.db, ws.workspaceId, ['scim']);
});

const scim = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  call(ctx.app, method, `/scim/v2${url}`, {
    token,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json', ...headers },
  });

let n = 0;
const userBody = (over: Record<string, unknown> = {}) => {
  n += 1;
  return {
    schemas: [CORE, ENT],
    userName: `user${n}@example.com`,
    name: { givenName: `Given${n}`, familyName: `Family${n}` },
    emails: [{ value: `user${n}@example.com`, type: 'work', primary: true }],
    displayName: `Given${n} Family${n}`,
    title: 'Driver',
    phoneNumbers: [{ value: '+44 20 7946 0000', type: 'work' }],
    active: true,
    [ENT]: { employeeNumber: `E-${n}`, department: 'Fleet', manager: { value: 'm-1' } },
    ...over,
  };
};

describe('POST /scim/v2/Users', () => {
  it('creates an active user (invitations off) with 201, Location and the full resource', async () => {
    const res = await scim('POST', '/Users', userBody({ [LOOPIT]: { role: 'agent', location: 'london' } }));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.headers.location).toBe(`https://provision.example.com/scim/v2/Users/${res.body.id}`);
    expect(res.body).toMatchObject({
      schemas: expect.arrayContaining([CORE, ENT, LOOPIT]),
      userName: expect.stringMatching(/^user\d+@example\.com$/),
      name: { givenName: expect.any(String), familyName: expect.any(String) },
      active: true,
      title: 'Driver',
      phoneNumbers: [{ value: '+44 20 7946 0000', type: 'work' }],
      [ENT]: { employeeNumber: expect.any(String), department: 'Fleet', manager: { value: 'm-1' } },
      [LOOPIT]: { role: 'Agent', location: 'London' },
      meta: { resourceType: 'User', version: 'W/"1"', location: res.headers.location },
    });
    const rest = await call(ctx.app, 'GET', `/v1/users/${res.body.id}`, { token: ws.token });
    expect(rest.body).toMatchObject({ status: 'active', managedBy: 'scim', invitation: null });
  });

  it('answers 409 uniqueness for a userName that exists in another case', async () => {
    const body = userBody();
    await scim('POST', '/Users', body);
    const res = await scim('POST', '/Users', { ...body, userName: body.userName.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
    });
  });

  it('answers 400 invalidValue naming an unknown role', async () => {
    const res = await scim('POST', '/Users', userBody({ [LOOPIT]: { role: 'Pilot' } }));
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(res.body.detail).toContain('Pilot');
  });

  it('invites users when the workspace asks for it', async () => {
    const other = await makeWorkspace(ctx.db);
    await call(ctx.app, 'PATCH', '/v1/settings', { token: other.token, body: { scimSendInvites: true } });
    const res = await call(ctx.app, 'POST', '/scim/v2/Users', { token: other.token, body: userBody() });
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
    const rest = await call(ctx.app, 'GET', `/v1/users/${res.body.id}`, { token: other.token });
    expect(rest.body).toMatchObject({ status: 'invited', invitation: { status: 'pending' } });
  });
});

describe('GET /scim/v2/Users', () => {
  it('filters by userName case-insensitively and pages with startIndex and count', async () => {
    const created = await scim('POST', '/Users', userBody());
    const res = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${(created.body.userName as string).toUpperCase()}"`)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(res.body.Resources[0].id).toBe(created.body.id);
    const all = await scim('GET', '/Users?startIndex=1&count=2');
    expect(all.body.itemsPerPage).toBe(2);
    expect(all.body.totalResults).toBeGreaterThan(2);
    const none = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it('answers 400 invalidFilter for a filter it cannot read', async () => {
    const res = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq bjensen')}`);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidFilter');
  });

  it('answers 404 in the SCIM envelope for an unknown or malformed id', async () => {
    for (const id of ['00919288221112222', '01a21f58-0000-7000-8000-000000000000']) {
      const res = await scim('GET', `/Users/${id}`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: '404', detail: expect.any(String) });
    }
  });
});

describe('PUT, PATCH and DELETE /scim/v2/Users/:id', () => {
  it('PUT replaces: what is not sent is cleared, the role is kept, active false deactivates', async () => {
    const created = await scim(
      'POST',
      '/Users',
      userBody({ [LOOPIT]: { role: 'Agent', location: 'London' } }),
    );
    const res = await scim('PUT', `/Users/${created.body.id}`, {
      schemas: [CORE],
      userName: created.body.userName,
      name: { givenName: 'New', familyName: 'Name' },
      emails: created.body.emails,
      active: false,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      active: false,
      name: { givenName: 'New', familyName: 'Name' },
      [LOOPIT]: { role: 'Agent' },
    });
    expect(res.body.title).toBeUndefined();
    expect(res.body[LOOPIT].location).toBeUndefined();
    expect(res.body.meta.version).toBe('W/"2"');
  });

  it('PATCH applies Entra ID’s operations, including a value filter that creates an element', async () => {
    const created = await scim('POST', '/Users', userBody());
    const res = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'name.givenName', value: 'Bo' },
        { op: 'Add', path: `${ENT}:department`, value: 'Sales' },
        { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+44 7700 900000' },
        { op: 'Replace', path: 'active', value: 'False' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.name.givenName).toBe('Bo');
    expect(res.body[ENT].department).toBe('Sales');
    expect(res.body.phoneNumbers).toEqual(
      expect.arrayContaining([{ value: '+44 7700 900000', type: 'mobile' }]),
    );
    expect(res.body.active).toBe(false);
    const back = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(back.body.active).toBe(true);
  });

  it('PATCH is atomic: a failing operation applies none', async () => {
    const created = await scim('POST', '/Users', userBody());
    const res = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Changed' },
        { op: 'remove', path: 'emails[type eq "home"]' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('noTarget');
    expect((await scim('GET', `/Users/${created.body.id}`)).body.displayName).toBe(created.body.displayName);
  });

  it('DELETE answers 204, then 404, and frees the userName', async () => {
    const body = userBody();
    const created = await scim('POST', '/Users', body);
    expect((await scim('DELETE', `/Users/${created.body.id}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await scim('POST', '/Users', body)).status).toBe(201);
  });

  it('every write is an audit event with source scim', async () => {
    const created = await scim('POST', '/Users', userBody());
    await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Lead' }],
    });
    const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${created.body.id}`, { token: ws.token });
    expect(audit.body.data.map((e: { action: string; source: string }) => [e.action, e.source])).toEqual([
      ['user.updated', 'scim'],
      ['user.created', 'scim'],
    ]);
  });
});

describe('SCIM auth and tenancy', () => {
  it('answers 401 in the SCIM envelope without a token, 403 without the scope, 404 across workspaces', async () => {
    const anon = await call(ctx.app, 'GET', '/scim/v2/Users');
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
      detail: expect.any(String),
    });
    expect(
      (await call(ctx.app, 'GET', '/scim/v2/Users', { token: ws.token.replace(/.$/, 'x') })).status,
    ).toBe(401);
    const usersOnly = await makeToken(ctx.db, ws.workspaceId, ['users']);
    expect((await call(ctx.app, 'GET', '/scim/v2/Users', { token: usersOnly })).status).toBe(403);
    const created = await scim('POST', '/Users', userBody());
    const other = await makeWorkspace(ctx.db);
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await call(ctx.app, method, `/scim/v2/Users/${created.body.id}`, {
        token: other.token,
        ...(method === 'PUT'
          ? { body: userBody() }
          : method === 'PATCH'
            ? { body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'X' }] } }
            : {}),
      });
      expect(res.status).toBe(404);
    }
    expect((await scim('GET', `/Users/${created.body.id}`)).body.title).toBe('Driver');
  });
});

describe('lists, projections and ETags', () => {
  it('sorts, gives only the total for count=0, and keeps id and schemas under attributes', async () => {
    const other = await makeWorkspace(ctx.db);
    const t = await makeToken(ctx.db, other.workspaceId, ['scim']);
    for (const name of ['carol', 'alice', 'bob']) {
      await call(ctx.app, 'POST', '/scim/v2/Users', {
        token: t,
        body: {
          schemas: [CORE],
          userName: `${name}@example.com`,
          name: { givenName: name, familyName: 'X' },
        },
      });
    }
    const sorted = await call(ctx.app, 'GET', '/scim/v2/Users?sortBy=userName&sortOrder=descending', {
      token: t,
    });
    expect(sorted.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      'carol@example.com',
      'bob@example.com',
      'alice@example.com',
    ]);
    const totalOnly = await call(ctx.app, 'GET', '/scim/v2/Users?count=0', { token: t });
    expect(totalOnly.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
    const page = await call(ctx.app, 'GET', '/scim/v2/Users?startIndex=3&count=5&sortBy=userName', {
      token: t,
    });
    expect(page.body).toMatchObject({ startIndex: 3, itemsPerPage: 1 });
    expect(page.body.Resources[0].userName).toBe('carol@example.com');
    const slim = await call(ctx.app, 'GET', '/scim/v2/Users?attributes=userName,name.givenName', {
      token: t,
    });
    expect(Object.keys(slim.body.Resources[0]).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    expect(Object.keys(slim.body.Resources[0].name)).toEqual(['givenName']);
    const without = await call(ctx.app, 'GET', '/scim/v2/Users?excludedAttributes=emails,meta,id', {
      token: t,
    });
    expect(without.body.Resources[0].emails).toBeUndefined();
    expect(without.body.Resources[0].id).toEqual(expect.any(String));
    expect((await call(ctx.app, 'GET', '/scim/v2/Users?sortBy=password', { token: t })).status).toBe(400);
    const search = await call(ctx.app, 'POST', '/scim/v2/Users/.search', {
      token: t,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'userName sw "b"',
        attributes: ['userName'],
      },
    });
    expect(search.body.Resources).toEqual([expect.objectContaining({ userName: 'bob@example.com' })]);
    expect(search.body.Resources[0].emails).toBeUndefined();
  });

  it('answers 304 to If-None-Match with the current ETag and 412 to a stale If-Match', async () => {
    const created = await scim('POST', '/Users', userBody());
    const etag = created.headers.etag as string;
    expect(etag).toBe('W/"1"');
    const notModified = await ctx.app.inject({
      method: 'GET',
      url: `/scim/v2/Users/${created.body.id}`,
      headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
    });
    expect(notModified.statusCode).toBe(304);
    const stale = await scim(
      'PUT',
      `/Users/${created.body.id}`,
      { ...userBody(), userName: created.body.userName, emails: created.body.emails },
      { 'if-match': 'W/"7"' },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.status).toBe('412');
  });
});
