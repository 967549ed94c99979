import { beforeAll, describe, expect, it } from 'vitest';
import { provision } from '../src/provisioning/engine.js';
import { call, useTestContext, type Call } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { fill, loadFlow, replaySender, type Method, type Replay, type Vars } from './support/scim-replay.js';

/*
 * What Okta and Microsoft Entra ID send over a user's lifecycle, replayed request by request from
 * fixtures/scim/<vendor>/NN-*.json (see fixtures/scim/README.md), then the RFC 7644 edge cases of
 * lists, ETags, errors and media types, and tenant isolation.
 */

const PUBLIC_URL = 'https://provision.example.com';
const BASE = `${PUBLIC_URL}/scim/v2`;
const ctx = useTestContext({ PUBLIC_URL });
const send = replaySender(() => ctx.app, BASE);

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = /^application\/scim\+json/;

interface Workspace {
  workspaceId: string;
  /** Every scope: REST checks and settings. */
  token: string;
  /** The scim scope only, as an identity provider is given. */
  scim: string;
}

async function scimWorkspace(): Promise<Workspace> {
  const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Customer Success'], locations: ['London'] });
  return { ...ws, scim: await makeToken(ctx.db, ws.workspaceId, ['scim']) };
}

/** The user as the REST API reports it: Loopit's status and invitation, which SCIM does not show. */
async function restUser(ws: Workspace, id: string): Promise<Call> {
  return call(ctx.app, 'GET', `/v1/users/${id}`, { token: ws.token });
}

/**
 * One test per request of a flow; after a step named in `rest`, the user as the REST API reports it
 * (Loopit's status and invitation, which SCIM does not show) must match.
 */
function replaySteps(
  flow: ReturnType<typeof loadFlow>,
  replay: Replay,
  ws: () => Workspace,
  rest: Record<string, Record<string, unknown>>,
): void {
  for (const { file, step } of flow) {
    it(`${file}: ${step.method} ${step.path}`, async () => {
      await send(replay, file, step);
      const expected = rest[file];
      if (expected) {
        const user = await restUser(ws(), replay.vars.id!);
        expect(user.status).toBe(200);
        expect(user.body).toMatchObject(expected);
      }
    });
  }
}

const scimCall = (
  token: string,
  method: Method,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Call> =>
  call(ctx.app, method, `/scim/v2${path}`, {
    token,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json; charset=utf-8', ...headers },
  });

const filterPath = (filter: string): string => `/Users?filter=${encodeURIComponent(filter)}`;

let seq = 0;
const userBody = (over: Record<string, unknown> = {}): Record<string, unknown> => {
  seq += 1;
  return {
    schemas: [CORE],
    userName: `flow.user${seq}@example.com`,
    name: { givenName: `Given${seq}`, familyName: `Family${seq}` },
    emails: [{ value: `flow.user${seq}@example.com`, type: 'work', primary: true }],
    active: true,
    ...over,
  };
};

describe('Okta: a user’s lifecycle as Okta sends it (SCIM 2.0 protocol reference)', () => {
  const flow = loadFlow('okta');
  let ws: Workspace;
  const replay: Replay = {
    token: '',
    vars: { userName: 'test.user@okta.local', baseUrl: BASE },
    captures: { '02-create-user.json': 'id' },
    versions: new Map(),
  };
  // Loopit's status after the step, per DESIGN (SCIM invitations off: created active, reactivated active).
  const rest: Record<string, Record<string, unknown>> = {
    '02-create-user.json': { status: 'active', managedBy: 'scim', invitation: null, role: { name: 'Admin' } },
    '06-deactivate-user.json': { status: 'deactivated' },
    '09-reactivate-user.json': { status: 'active', invitation: null },
  };

  beforeAll(async () => {
    ws = await scimWorkspace();
    replay.token = ws.scim;
  });

  it('has the steps create, update, deactivate and reactivate', () => {
    expect(flow.map((f) => `${f.step.method} ${f.file}`)).toEqual(
      expect.arrayContaining([
        'POST 02-create-user.json',
        'PUT 05-update-profile.json',
        'PATCH 06-deactivate-user.json',
        'PATCH 09-reactivate-user.json',
      ]),
    );
  });

  replaySteps(flow, replay, () => ws, rest);
});

describe('Microsoft Entra ID: a user’s lifecycle as Entra sends it (SCIM endpoint tutorial)', () => {
  const flow = loadFlow('entra');
  let ws: Workspace;
  const replay: Replay = {
    token: '',
    vars: {
      userName: 'AlexW@contoso.onmicrosoft.com',
      newUserName: 'Alex.Wilber@contoso.onmicrosoft.com',
      managerUserName: 'MeganB@contoso.onmicrosoft.com',
      baseUrl: BASE,
    },
    captures: { '03-create-user.json': 'id', '06-create-manager.json': 'managerId' },
    versions: new Map(),
  };
  const rest: Record<string, Record<string, unknown>> = {
    '03-create-user.json': {
      status: 'active',
      email: 'AlexW@contoso.com',
      role: { name: 'Customer Success' },
      location: { name: 'London' },
      managedBy: 'scim',
      invitation: null,
    },
    '08-update-attributes.json': { email: 'Alex.Wilber@contoso.com', familyName: 'Wilber-Lee' },
    '10-replace-without-path.json': { role: { name: 'Admin' } },
    '11-disable-user.json': { status: 'deactivated' },
    '13-enable-user.json': { status: 'active' },
  };

  beforeAll(async () => {
    ws = await scimWorkspace();
    replay.token = ws.scim;
  });

  it('has the steps create, update, disable, enable and delete', () => {
    expect(flow.map((f) => `${f.step.method} ${f.file}`)).toEqual(
      expect.arrayContaining([
        'POST 03-create-user.json',
        'PATCH 08-update-attributes.json',
        'PATCH 11-disable-user.json',
        'PATCH 13-enable-user.json',
        'DELETE 15-delete-user.json',
      ]),
    );
  });

  replaySteps(flow, replay, () => ws, rest);

  it('after the DELETE the user is gone from REST too, its userName, e-mail and externalId free again', async () => {
    expect((await restUser(ws, replay.vars.id!)).status).toBe(404);
    const create = loadFlow('entra').find((f) => f.file === '03-create-user.json')!;
    const body = {
      ...fill(create.step.body as Record<string, unknown>, replay.vars),
      userName: replay.vars.newUserName,
      emails: [{ primary: true, type: 'work', value: 'Alexander.Wilber@contoso.com' }],
    };
    const res = await scimCall(ws.scim, 'POST', '/Users', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.id).not.toBe(replay.vars.id);
  });

  it('the manager is still there, and the DELETE did not touch it', async () => {
    const res = await scimCall(ws.scim, 'GET', `/Users/${replay.vars.managerId!}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ userName: replay.vars.managerUserName, active: true });
  });
});

describe('Status mapping with SCIM invitations on (workspace setting scimSendInvites)', () => {
  it('Okta’s flow: created invited with an invitation, deactivation revokes it, reactivation invites again', async () => {
    const ws = await scimWorkspace();
    const settings = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: ws.token,
      body: { scimSendInvites: true },
    });
    expect(settings.status).toBe(200);
    const replay: Replay = {
      token: ws.scim,
      vars: { userName: 'invited.user@okta.local', baseUrl: BASE },
      captures: { '02-create-user.json': 'id' },
      versions: new Map(),
    };
    const expected: Record<string, Record<string, unknown>> = {
      '02-create-user.json': { status: 'invited', invitation: { status: 'pending' } },
      '05-update-profile.json': { status: 'invited', invitation: { status: 'pending' } },
      '06-deactivate-user.json': { status: 'deactivated', invitation: { status: 'revoked' } },
      '09-reactivate-user.json': { status: 'invited', invitation: { status: 'pending' } },
    };
    for (const { file, step } of loadFlow('okta')) {
      await send(replay, file, step);
      if (expected[file]) expect((await restUser(ws, replay.vars.id!)).body).toMatchObject(expected[file]);
    }
    const invitations = await ctx.db
      .selectFrom('invitations')
      .select(['status'])
      .where('user_id', '=', replay.vars.id!)
      .orderBy('created_at')
      .execute();
    expect(invitations.map((i) => i.status)).toEqual(['revoked', 'pending']);
  });
});

describe('Lists: startIndex and count (RFC 7644 §3.4.2.4)', () => {
  let ws: Workspace;
  let ids: string[];
  const list = async (query: string): Promise<Call> => {
    const res = await scimCall(ws.scim, 'GET', `/Users${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(SCIM_JSON);
    expect(res.body.schemas).toEqual([LIST]);
    expect(res.body.itemsPerPage).toBe((res.body.Resources ?? []).length);
    return res;
  };
  const idsOf = (res: Call): string[] => (res.body.Resources ?? []).map((r: { id: string }) => r.id);

  beforeAll(async () => {
    ws = await scimWorkspace();
    for (let i = 0; i < 5; i += 1) {
      const res = await scimCall(ws.scim, 'POST', '/Users', userBody());
      expect(res.status).toBe(201);
    }
    ids = idsOf(await list(''));
  });

  it('lists every user, 1-based, in a stable order', async () => {
    const all = await list('');
    expect(all.body).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 5 });
    expect(idsOf(await list(''))).toEqual(ids);
    const pages = [await list('?startIndex=1&count=2'), await list('?startIndex=3&count=2')];
    const last = await list('?startIndex=5&count=2');
    expect(pages.map((p) => p.body.startIndex)).toEqual([1, 3]);
    expect(last.body).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
    expect([...pages.flatMap(idsOf), ...idsOf(last)]).toEqual(ids);
  });

  it('treats a startIndex below 1 as 1', async () => {
    for (const startIndex of ['0', '-7']) {
      const res = await list(`?startIndex=${startIndex}&count=2`);
      expect(res.body.startIndex).toBe(1);
      expect(idsOf(res)).toEqual(ids.slice(0, 2));
    }
  });

  it('answers an empty page past the end, with the total', async () => {
    const res = await list('?startIndex=6&count=10');
    expect(res.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, startIndex: 6 });
    expect(res.body.Resources ?? []).toEqual([]);
  });

  it('count=0 gives only totalResults, no resources (a negative count counts as 0)', async () => {
    for (const count of ['0', '-1']) {
      const res = await list(`?count=${count}`);
      expect(res.body).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
      expect(res.body.Resources ?? []).toEqual([]);
    }
    const { userName } = (await list('')).body.Resources[0] as { userName: string };
    const filtered = await list(`?filter=${encodeURIComponent(`userName eq "${userName}"`)}&count=0`);
    expect(filtered.body).toMatchObject({ totalResults: 1, itemsPerPage: 0 });
  });

  it('POST /Users/.search pages the same way', async () => {
    const res = await scimCall(ws.scim, 'POST', '/Users/.search', {
      schemas: [SEARCH],
      startIndex: 2,
      count: 2,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(SCIM_JSON);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(idsOf(res)).toEqual(ids.slice(1, 3));
    const none = await scimCall(ws.scim, 'POST', '/Users/.search', { schemas: [SEARCH], count: 0 });
    expect(none.body).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
  });

  it('caps count at filter.maxResults (1000), as ServiceProviderConfig says', async () => {
    const big = await scimWorkspace();
    const items = Array.from({ length: 1001 }, (_, i) => ({
      key: String(i).padStart(4, '0'),
      userName: `bulk${i}@example.com`,
      email: `bulk${i}@example.com`,
      displayName: `Bulk ${i}`,
      managedBy: 'scim' as const,
    }));
    const results = await provision(ctx.db, big.workspaceId, items, {
      mode: 'create',
      dryRun: false,
      sendInvites: false,
      activateUninvited: true,
      source: 'scim',
      actor: 'test',
    });
    expect(results.filter((r) => r.status !== 'created')).toEqual([]);
    const config = await scimCall(big.scim, 'GET', '/ServiceProviderConfig');
    expect(config.body.filter).toMatchObject({ supported: true, maxResults: 1000 });
    const capped = await scimCall(big.scim, 'GET', '/Users?count=5000');
    expect(capped.body).toMatchObject({ totalResults: 1001, startIndex: 1, itemsPerPage: 1000 });
    expect(capped.body.Resources).toHaveLength(1000);
    const tail = await scimCall(big.scim, 'GET', '/Users?startIndex=1000&count=1000');
    expect(tail.body).toMatchObject({ totalResults: 1001, startIndex: 1000, itemsPerPage: 2 });
    expect(tail.body.Resources[1].id).not.toBe(capped.body.Resources[999].id);
    expect(tail.body.Resources[0].id).toBe(capped.body.Resources[999].id);
  });
});

describe('ETags (RFC 7644 §3.14)', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await scimWorkspace();
  });
  const create = async (): Promise<Call> => {
    const res = await scimCall(ws.scim, 'POST', '/Users', userBody({ title: 'Driver' }));
    expect(res.status).toBe(201);
    return res;
  };
  const titlePatch = (title: string) => ({
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'title', value: title }],
  });

  it('meta.version is the ETag; If-Match with the current version writes, a stale one is 412', async () => {
    const created = await create();
    const id = created.body.id as string;
    expect(created.headers.etag).toBe('W/"1"');
    expect(created.body.meta.version).toBe('W/"1"');
    const got = await scimCall(ws.scim, 'GET', `/Users/${id}`);
    expect(got.headers.etag).toBe('W/"1"');

    const patched = await scimCall(ws.scim, 'PATCH', `/Users/${id}`, titlePatch('Lead'), {
      'if-match': 'W/"1"',
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('W/"2"');
    expect(patched.body.meta.version).toBe('W/"2"');

    const stale = await scimCall(ws.scim, 'PATCH', `/Users/${id}`, titlePatch('Stale'), {
      'if-match': 'W/"1"',
    });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toMatch(SCIM_JSON);
    expect(stale.body).toMatchObject({ schemas: [ERROR], status: '412' });

    const put = { ...userBody(), userName: created.body.userName, emails: created.body.emails };
    const stalePut = await scimCall(ws.scim, 'PUT', `/Users/${id}`, put, { 'if-match': 'W/"1"' });
    expect(stalePut.status).toBe(412);
    expect(stalePut.body).toMatchObject({ schemas: [ERROR], status: '412' });

    const after = await scimCall(ws.scim, 'GET', `/Users/${id}`);
    expect(after.body).toMatchObject({ title: 'Lead', meta: { version: 'W/"2"' } });
    const fresh = await scimCall(ws.scim, 'PUT', `/Users/${id}`, put, { 'if-match': after.headers.etag! });
    expect(fresh.status).toBe(200);
    expect(fresh.body.meta.version).toBe('W/"3"');
  });

  // Bug: DELETE /scim/v2/Users/:id ignores If-Match (users.routes.ts passes no header to deleteScimUser).
  it('DELETE with a stale If-Match is 412 and deletes nothing', async () => {
    const created = await create();
    const id = created.body.id as string;
    await scimCall(ws.scim, 'PATCH', `/Users/${id}`, titlePatch('Lead'));
    const res = await scimCall(ws.scim, 'DELETE', `/Users/${id}`, undefined, { 'if-match': 'W/"1"' });
    expect(res.status).toBe(412);
    expect((await scimCall(ws.scim, 'GET', `/Users/${id}`)).status).toBe(200);
  });

  // Bug: an If-Match that is not W/"<digits>" or "<digits>" (versionOf in users.service.ts) is ignored
  // and the write goes through, although no current ETag matches it (RFC 7232 §3.1: 412).
  it('an If-Match naming no current version (W/"abc") is 412', async () => {
    const created = await create();
    const id = created.body.id as string;
    const res = await scimCall(ws.scim, 'PATCH', `/Users/${id}`, titlePatch('Lead'), {
      'if-match': 'W/"abc"',
    });
    expect(res.status).toBe(412);
    expect((await scimCall(ws.scim, 'GET', `/Users/${id}`)).body.title).toBe('Driver');
  });

  // Bug: a PUT or PATCH that changes nothing still bumps meta.version, lastModified and writes a
  // user.updated audit event whose only "change" is `emails` with the same elements: the engine's diff
  // (JSON.stringify in provisioning/plan.ts) sees {value,type,primary} from the request and
  // {type,value,primary} as jsonb returns it as different.
  it('a PUT of the current resource (Okta’s profile push with nothing changed) keeps the version', async () => {
    const created = await scimCall(ws.scim, 'POST', '/Users', userBody({ displayName: 'Same Name' }));
    const id = created.body.id as string;
    const body = { ...created.body };
    delete body.meta;
    const res = await scimCall(ws.scim, 'PUT', `/Users/${id}`, body);
    expect(res.status).toBe(200);
    expect(res.body.meta.version).toBe('W/"1"');
    expect(res.body.meta.lastModified).toBe(created.body.meta.lastModified);
    const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${id}`, { token: ws.token });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['user.created']);
  });
});

describe('Authentication, errors and media types (RFC 7644 §3.1, §3.12)', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await scimWorkspace();
  });

  it('401 without a token or with a bad one: SCIM envelope and WWW-Authenticate', async () => {
    const cases: { headers: Record<string, string>; challenge: RegExp }[] = [
      { headers: {}, challenge: /^Bearer/ },
      { headers: { authorization: 'non-token' }, challenge: /^Bearer/ },
      {
        headers: { authorization: `Bearer ${ws.scim.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))}` },
        challenge: /^Bearer/,
      },
    ];
    for (const { headers, challenge } of cases) {
      const res = await call(ctx.app, 'GET', `/scim/v2${filterPath('userName eq "x@example.com"')}`, {
        headers,
      });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(SCIM_JSON);
      expect(res.headers['www-authenticate']).toMatch(challenge);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '401', detail: expect.any(String) });
    }
  });

  it('403 in the SCIM envelope for a token without the scim scope', async () => {
    const usersOnly = await makeToken(ctx.db, ws.workspaceId, ['users']);
    const res = await call(ctx.app, 'GET', '/scim/v2/Users', { token: usersOnly });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(SCIM_JSON);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '403' });
  });

  it('takes application/json as well as application/scim+json, and always answers application/scim+json', async () => {
    const json = { 'content-type': 'application/json' };
    const created = await scimCall(ws.scim, 'POST', '/Users', userBody(), json);
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toMatch(SCIM_JSON);
    const id = created.body.id as string;
    const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] };
    const patched = await scimCall(ws.scim, 'PATCH', `/Users/${id}`, patch, json);
    expect(patched.status).toBe(200);
    expect(patched.headers['content-type']).toMatch(SCIM_JSON);
    const put = { ...userBody(), userName: created.body.userName, emails: created.body.emails };
    const replaced = await scimCall(ws.scim, 'PUT', `/Users/${id}`, put, json);
    expect(replaced.status).toBe(200);
    expect(replaced.headers['content-type']).toMatch(SCIM_JSON);
    const search = await scimCall(ws.scim, 'POST', '/Users/.search', { schemas: [SEARCH] }, json);
    expect(search.status).toBe(200);
    expect(search.headers['content-type']).toMatch(SCIM_JSON);
  });

  it('409 uniqueness when a POST, PUT or PATCH takes another user’s userName or e-mail (ignoring case)', async () => {
    const first = await scimCall(ws.scim, 'POST', '/Users', userBody());
    const second = await scimCall(ws.scim, 'POST', '/Users', userBody());
    expect([first.status, second.status]).toEqual([201, 201]);
    const taken = (first.body.userName as string).toUpperCase();
    const attempts: [Method, string, unknown][] = [
      ['POST', '/Users', { ...userBody(), userName: taken }],
      ['POST', '/Users', { ...userBody(), emails: [{ value: taken, type: 'work', primary: true }] }],
      ['PUT', `/Users/${second.body.id}`, { ...userBody(), userName: taken }],
      [
        'PATCH',
        `/Users/${second.body.id}`,
        { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'userName', value: taken }] },
      ],
      [
        'PATCH',
        `/Users/${second.body.id}`,
        {
          schemas: [PATCH_OP],
          Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: taken }],
        },
      ],
    ];
    for (const [method, path, body] of attempts) {
      const res = await scimCall(ws.scim, method, path, body);
      expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(409);
      expect(res.headers['content-type']).toMatch(SCIM_JSON);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    }
    expect((await scimCall(ws.scim, 'GET', `/Users/${second.body.id}`)).body.meta.version).toBe('W/"1"');
  });

  it('errors are in the SCIM envelope with their scimType', async () => {
    const badFilter = await scimCall(ws.scim, 'GET', filterPath('userName eq unquoted'));
    expect(badFilter.status).toBe(400);
    expect(badFilter.headers['content-type']).toMatch(SCIM_JSON);
    expect(badFilter.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
    const unknownAttr = await scimCall(ws.scim, 'GET', filterPath('nosuch eq "x"'));
    expect(unknownAttr.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    const badJson = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token: ws.scim,
      headers: { 'content-type': 'application/scim+json' },
      body: '{"userName":',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
    const missing = await scimCall(ws.scim, 'GET', '/Users/01a21f58-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [ERROR], status: '404' });
    const noRoute = await scimCall(ws.scim, 'GET', '/NoSuchEndpoint');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body).toMatchObject({ schemas: [ERROR], status: '404' });
  });
});

describe('Tenant isolation', () => {
  it('another workspace’s scim token sees and touches none of it', async () => {
    const a = await scimWorkspace();
    const b = await scimWorkspace();
    const create = loadFlow('okta').find((f) => f.file === '02-create-user.json')!;
    const vars = { userName: 'isolated.user@okta.local', baseUrl: BASE };
    const mine = await send(
      { token: a.scim, vars, captures: { [create.file]: 'id' }, versions: new Map() },
      create.file,
      create.step,
    );
    const id = mine.body.id as string;

    const listed = await scimCall(b.scim, 'GET', '/Users');
    expect(listed.body).toMatchObject({ totalResults: 0, itemsPerPage: 0 });
    for (const filter of [
      `userName eq "${vars.userName}"`,
      `id eq "${id}"`,
      'externalId eq "00ujl29u0le5T6Aj10h7"',
    ]) {
      expect((await scimCall(b.scim, 'GET', filterPath(filter))).body.totalResults).toBe(0);
      const search = await scimCall(b.scim, 'POST', '/Users/.search', { schemas: [SEARCH], filter });
      expect(search.body.totalResults).toBe(0);
    }
    const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] };
    const attempts: [Method, unknown][] = [
      ['GET', undefined],
      ['PUT', { ...userBody(), userName: vars.userName }],
      ['PATCH', patch],
      ['DELETE', undefined],
    ];
    for (const [method, body] of attempts) {
      const res = await scimCall(b.scim, method, `/Users/${id}`, body);
      expect(res.status, method).toBe(404);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '404' });
    }

    // The same userName and externalId are free in the other workspace: a separate user.
    const theirs = await send(
      { token: b.scim, vars: { ...vars }, captures: { [create.file]: 'id' }, versions: new Map() },
      create.file,
      create.step,
    );
    expect(theirs.body.id).not.toBe(id);
    const still = await scimCall(a.scim, 'GET', `/Users/${id}`);
    expect(still.body).toMatchObject({ active: true, meta: { version: 'W/"1"' } });
    expect((await scimCall(a.scim, 'GET', '/Users')).body.totalResults).toBe(1);
  });
});

describe('Attributes identity providers send', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await scimWorkspace();
  });

  // Loopit stores no passwords: POST, PUT and PATCH accept `password` and drop it; it is never returned.
  it('password: dropped on POST, PUT and PATCH, never stored or returned', async () => {
    const created = await scimCall(ws.scim, 'POST', '/Users', userBody({ password: '1mz050nq' }));
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('password');
    const id = created.body.id as string;
    const stored = await ctx.db
      .selectFrom('users')
      .select(['attributes'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.attributes)).not.toContain('1mz050nq');
    const put = await scimCall(ws.scim, 'PUT', `/Users/${id}`, {
      ...userBody(),
      userName: created.body.userName,
      emails: created.body.emails,
      password: 'n3wPassw0rd',
    });
    expect(put.status).toBe(200);
    expect(put.body).not.toHaveProperty('password');
    let version: string | undefined;
    for (const operation of [
      { op: 'replace', value: { password: 'n3wPassw0rd' } },
      { op: 'replace', path: 'password', value: 'n3wPassw0rd' },
      { op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'n3wPassw0rd' },
    ]) {
      const patch = await scimCall(ws.scim, 'PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [operation],
      });
      expect(patch.status, JSON.stringify(patch.body)).toBe(200);
      expect(patch.body).not.toHaveProperty('password');
      // The first PATCH stores the displayName the resource derives; after that nothing changes.
      if (version) expect(patch.body.meta.version).toBe(version);
      version = patch.body.meta.version as string;
    }
    const after = await ctx.db
      .selectFrom('users')
      .select(['attributes'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(after.attributes)).not.toContain('n3wPassw0rd');
  });

  // Bug: name.middleName, name.honorificPrefix and name.honorificSuffix (RFC 7643 §4.1.1; in Okta's default
  // mapping) are accepted and silently dropped: mapper.ts keeps only givenName, familyName and formatted,
  // and schemas.ts does not list them, although patch-path.ts accepts them in PATCH paths.
  it('name.middleName and the honorifics are stored and returned (POST and PATCH)', async () => {
    const created = await scimCall(
      ws.scim,
      'POST',
      '/Users',
      userBody({
        name: { givenName: 'Ana', middleName: 'Maria', familyName: 'Silva', honorificPrefix: 'Dr.' },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body.name).toMatchObject({ middleName: 'Maria', honorificPrefix: 'Dr.' });
    const patched = await scimCall(ws.scim, 'PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'name.middleName', value: 'Joana' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.name.middleName).toBe('Joana');
  });

  // Bug: every PATCH that does not itself set the location clears it. patchScimUser (users.service.ts)
  // deletes `location` from the engine item when the PATCH left it unchanged, meaning "leave it", but
  // sends the item with op 'replace', and the engine's replace clears a location it is not given
  // (provisioning/plan.ts: pick(location.id, existing.location_id, null)).
  it('a PATCH that does not name the location keeps it (Entra’s manager PATCH)', async () => {
    const create = loadFlow('entra').find((f) => f.file === '03-create-user.json')!;
    const addManager = loadFlow('entra').find((f) => f.file === '07-add-manager.json')!;
    const own = await scimWorkspace();
    const vars: Vars = { userName: 'located.user@contoso.onmicrosoft.com', baseUrl: BASE };
    const created = await scimCall(own.scim, 'POST', '/Users', fill(create.step.body, vars));
    expect(created.status).toBe(201);
    expect(created.body[LOOPIT]).toEqual({ role: 'Customer Success', location: 'London' });
    const id = created.body.id as string;
    const patched = await scimCall(
      own.scim,
      'PATCH',
      `/Users/${id}`,
      fill(addManager.step.body, { ...vars, id, managerId: created.body.id as string }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body[LOOPIT]).toEqual({ role: 'Customer Success', location: 'London' });
    expect((await restUser(own, id)).body.location).toMatchObject({ name: 'London' });
  });

  it('Entra’s enterprise attributes and addresses are returned as sent, with the EnterpriseUser schema', async () => {
    const create = loadFlow('entra').find((f) => f.file === '03-create-user.json')!;
    const res = await send(
      {
        token: (await scimWorkspace()).scim,
        vars: { userName: 'enterprise.check@contoso.onmicrosoft.com', baseUrl: BASE },
        captures: { [create.file]: 'id' },
        versions: new Map(),
      },
      create.file,
      create.step,
    );
    expect(res.body.schemas).toEqual(expect.arrayContaining([CORE, ENTERPRISE]));
  });
});
