import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/db/tables.js';
import type { RouteAccess } from '../../src/auth/plugin.js';
import { call, useTestContext, type Call } from '../support/context.js';
import { makeToken, makeWorkspace } from '../support/factories.js';

/*
 * Every route of the app, taken from its access table (so a new route is covered the day it is added):
 * another workspace's token finds nothing of this workspace and changes nothing; a token without the
 * route's scope is 403; every answer carries the security headers.
 */

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });
const SCOPES: Scope[] = ['users', 'imports', 'scim', 'admin', 'events'];
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Victim {
  workspaceId: string;
  token: string;
  ids: string[];
  /** Strings only this workspace's data contains: they must never reach another workspace. */
  secrets: string[];
}

let victim: Victim;
let attacker: { workspaceId: string; token: string };
let routes: RouteAccess[];
let victimDelivery: string;

/** Bodies that would change the victim's data if a route let another workspace through. */
function hostileBody(method: string, url: string): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  if (url.startsWith('/scim/v2/Users/:id'))
    return method === 'PATCH'
      ? { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }
      : {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: 'pwned@example.com',
          active: false,
        };
  if (url.startsWith('/scim/v2/Groups/:id'))
    return method === 'PATCH'
      ? { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] }
      : { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Pwned', members: [] };
  if (url === '/v1/users/:id') return { familyName: 'Pwned', status: 'deactivated' };
  if (url === '/v1/roles/:id') return { name: 'Pwned', rank: 99 };
  if (url === '/v1/webhooks/:id') return { url: 'https://93.184.215.14/pwned', enabled: false };
  return {};
}

const text = (res: Call): string =>
  typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');

const request = (token: string, method: string, url: string, body?: unknown): Promise<Call> =>
  call(ctx.app, method, url, {
    token,
    ...(body !== undefined ? { body } : {}),
    headers: url.startsWith('/scim/') ? { 'content-type': 'application/scim+json' } : {},
  });

/** The victim workspace's data, as JSON, for a before/after comparison. */
async function snapshot(workspaceId: string): Promise<string> {
  const tables = [
    'users',
    'roles',
    'locations',
    'group_memberships',
    'invitations',
    'imports',
    'import_rows',
    'workspace_settings',
    'invitation_resends',
    'webhook_endpoints',
    'webhook_deliveries',
  ];
  const parts: unknown[] = [];
  for (const table of tables) {
    const { rows } = await sql<{ rows: unknown }>`
      select coalesce(json_agg(t order by t::text), '[]') as rows from ${sql.table(table)} t
      where t.workspace_id = ${workspaceId}`.execute(ctx.db);
    parts.push(rows[0]?.rows);
  }
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from audit_events where workspace_id = ${workspaceId}`.execute(ctx.db);
  parts.push(rows[0]?.n);
  return JSON.stringify(parts);
}

beforeAll(async () => {
  routes = ctx.app.accessTable;
  const a = await makeWorkspace(ctx.db, {
    roles: ['VictimRoleX', 'VictimRoleY'],
    locations: ['VictimTownZ'],
  });
  attacker = await makeWorkspace(ctx.db, { roles: ['Attacker'], locations: ['Elsewhere'] });
  const user = await call(ctx.app, 'POST', '/v1/users', {
    token: a.token,
    body: {
      name: 'Victim Person',
      email: 'victim.person@victim.example',
      role: 'VictimRoleY',
      location: 'VictimTownZ',
    },
  });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  const scimUser = await request(a.token, 'POST', '/scim/v2/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'victim.scim@victim.example',
    name: { givenName: 'Victim', familyName: 'Scim' },
  });
  expect(scimUser.status).toBe(201);
  const group = await request(a.token, 'POST', '/scim/v2/Groups', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'VictimGroupQ',
    members: [{ value: scimUser.body.id }],
  });
  expect(group.status).toBe(201);
  const upload = await call(ctx.app, 'POST', '/v1/imports?sendInvites=false', {
    token: a.token,
    headers: { 'content-type': 'text/csv' },
    body: 'email,name\nvictim.csv@victim.example,Victim Csv\n',
  });
  expect(upload.status, JSON.stringify(upload.body)).toBe(202);
  const resend = await call(ctx.app, 'POST', '/v1/invitations/resend', {
    token: a.token,
    body: { status: 'pending' },
  });
  expect(resend.status, JSON.stringify(resend.body)).toBe(202);
  const hook = await call(ctx.app, 'POST', '/v1/webhooks', {
    token: a.token,
    body: { url: 'https://93.184.215.14/victim-hook', events: ['user.created'] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  const delivery = await call(ctx.app, 'POST', `/v1/webhooks/${hook.body.id}/test`, { token: a.token });
  expect(delivery.status).toBe(202);
  victimDelivery = delivery.body.id as string;
  const roles = await call(ctx.app, 'GET', '/v1/roles', { token: a.token });
  const locations = await call(ctx.app, 'GET', '/v1/locations', { token: a.token });
  victim = {
    ...a,
    ids: [
      user.body.id,
      scimUser.body.id,
      group.body.id,
      upload.body.id,
      resend.body.id,
      hook.body.id,
      ...roles.body.data.map((r: { id: string }) => r.id),
      ...locations.body.data.map((l: { id: string }) => l.id),
    ] as string[],
    secrets: [
      'victim.person@victim.example',
      'victim.scim@victim.example',
      'VictimRoleX',
      'VictimTownZ',
      'VictimGroupQ',
      'victim.csv',
      'victim-hook',
      hook.body.secret.slice(6),
    ],
  };
  expect(victim.ids.every((id) => typeof id === 'string' && id.length === 36)).toBe(true);
});

describe('the access table', () => {
  it('lists every route with the access it declared', () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(routes).toContainEqual({ method: 'PATCH', url: '/scim/v2/Groups/:id', access: 'scim' });
    expect(routes).toContainEqual({ method: 'GET', url: '/v1/audit', access: 'admin' });
    expect(routes.filter((r) => r.access === 'any-scope').map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/workspace',
    ]);
    expect(routes.filter((r) => r.access === 'public').map((r) => r.url)).toEqual([
      '/healthz',
      '/readyz',
      '/v1/invitations/accept',
      '/invitations/accept',
      '/invitations/accept',
      '/',
      '/app',
      '/app/*',
    ]);
  });
});

describe('another workspace’s token', () => {
  it('finds none of this workspace’s resources on any route, and changes nothing', async () => {
    const before = await snapshot(victim.workspaceId);
    const seen: string[] = [];
    for (const route of routes.filter(
      (r) => SCOPES.includes(r.access as Scope) || r.access === 'any-scope',
    )) {
      const targets = route.url.includes(':id')
        ? victim.ids.map((id) => route.url.replace(':id', id).replace(':deliveryId', victimDelivery))
        : [route.url];
      for (const url of targets) {
        const res = await request(attacker.token, route.method, url, hostileBody(route.method, route.url));
        const where = `${route.method} ${url} answered ${res.status} ${text(res).slice(0, 300)}`;
        expect(res.status, where).toBeLessThan(500);
        if (
          route.url.includes(':id') &&
          !route.url.startsWith('/scim/v2/ResourceTypes') &&
          !route.url.startsWith('/scim/v2/Schemas')
        ) {
          expect([400, 404, 422], where).toContain(res.status);
        }
        // The id the request named may be echoed in its 404; nothing else of the victim's may appear.
        const others = victim.ids.filter((id) => !url.includes(id));
        for (const secret of [...victim.secrets, ...others]) expect(text(res), where).not.toContain(secret);
        seen.push(`${route.method} ${route.url}`);
      }
    }
    expect(new Set(seen).size).toBe(
      routes.filter((r) => SCOPES.includes(r.access as Scope) || r.access === 'any-scope').length,
    );
    expect(await snapshot(victim.workspaceId)).toBe(before);
  });
});

describe('a token without the route’s scope', () => {
  it('is 403 on every route, in the JSON envelope or SCIM’s, and changes nothing', async () => {
    const lacking = new Map<Scope, string>();
    for (const scope of SCOPES) {
      lacking.set(
        scope,
        await makeToken(
          ctx.db,
          victim.workspaceId,
          SCOPES.filter((s) => s !== scope),
        ),
      );
    }
    const before = await snapshot(victim.workspaceId);
    for (const route of routes.filter((r) => SCOPES.includes(r.access as Scope))) {
      const url = route.url.replace(':id', victim.ids[0]!).replace(':deliveryId', victimDelivery);
      const res = await request(
        lacking.get(route.access as Scope)!,
        route.method,
        url,
        hostileBody(route.method, route.url),
      );
      const where = `${route.method} ${url} answered ${res.status} ${text(res).slice(0, 200)}`;
      expect(res.status, where).toBe(403);
      if (route.url.startsWith('/scim/')) {
        expect(res.body, where).toMatchObject({
          status: '403',
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        });
      } else {
        expect(res.body.error, where).toMatchObject({
          code: 'insufficient_scope',
          requiredScope: route.access,
        });
      }
    }
    expect(await snapshot(victim.workspaceId)).toBe(before);
  });

  it('operator routes refuse every workspace token', async () => {
    for (const route of routes.filter((r) => r.access === 'operator')) {
      const res = await request(victim.token, route.method, route.url);
      expect(res.status, `${route.method} ${route.url}`).toBe(401);
    }
  });
});

describe('security headers', () => {
  it('are on every answer: success, error, HTML and SCIM', async () => {
    const urls = [
      ['GET', '/healthz', undefined],
      ['GET', '/v1/users', victim.token],
      ['GET', '/v1/users/not-a-uuid', victim.token],
      ['GET', '/v1/users', undefined],
      ['GET', '/scim/v2/Users', victim.token],
      ['GET', '/invitations/accept?token=x', undefined],
      ['GET', '/no/such/route', undefined],
    ] as const;
    for (const [method, url, token] of urls) {
      const res = await call(ctx.app, method, url, token ? { token } : {});
      const where = `${method} ${url} (${res.status})`;
      expect(res.headers['x-content-type-options'], where).toBe('nosniff');
      expect(res.headers['x-frame-options'], where).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy'], where).toBe('no-referrer');
      expect(res.headers['strict-transport-security'], where).toMatch(/max-age=\d+/);
      expect(res.headers['content-security-policy'], where).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy'], where).toContain("script-src 'self'");
    }
  });
});
