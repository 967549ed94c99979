import type { Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { producerConnection } from '../src/queues/connection.js';
import { Queues } from '../src/queues/producer.js';
import {
  bulkResults,
  insertBulkRequest,
  recordBulkResults,
  startBulkRequest,
} from '../src/scim/bulk/bulk.repository.js';
import { runBulkRequest } from '../src/scim/bulk/runner.js';
import { prepareUserEntries, type Entry } from '../src/scim/bulk/users.js';
import { provision } from '../src/provisioning/engine.js';
import type { BulkOperation } from '../src/scim/bulk/types.js';
import { startWorkers } from '../workers/main.js';
import type { WorkerContext } from '../workers/context.js';
import { BULK_MAX_STALLS, bulk as bulkJob } from '../workers/scim.js';
import { bulkSweepTask } from '../workers/sweep-tasks.js';
import { call, testConfig, useTestContext, useTestWorkers } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

const PUBLIC_URL = 'https://provision.example.com';
const BASE = `${PUBLIC_URL}/scim/v2`;
const ctx = useTestContext({ PUBLIC_URL });
const logger = pino({ level: 'silent' });

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

useTestWorkers(ctx, { logger });
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
  options: { app?: FastifyInstance; token?: string } = {},
) =>
  call(options.app ?? ctx.app, method, `/scim/v2${url}`, {
    token: options.token ?? token,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json' },
  });

const bulk = (operations: unknown[], extra: Record<string, unknown> = {}, options = {}) =>
  scim('POST', '/Bulk', { schemas: [BULK_REQUEST], Operations: operations, ...extra }, options);

let n = 0;
const user = (over: Record<string, unknown> = {}) => {
  n += 1;
  return {
    schemas: [CORE],
    userName: `bulk${n}@example.com`,
    name: { givenName: `Given${n}`, familyName: `Family${n}` },
    emails: [{ value: `bulk${n}@example.com`, type: 'work', primary: true }],
    ...over,
  };
};
const post = (bulkId: string, data: unknown = user()) => ({ method: 'POST', path: '/Users', bulkId, data });

const findByUserName = async (userName: string) =>
  (await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body.Resources;

describe('POST /scim/v2/Bulk', () => {
  it('applies a PATCH to the version it read, so a write in between is caught and the PATCH applied again', async () => {
    const created = await scim('POST', '/Users', user());
    const id = created.body.id as string;
    const op: BulkOperation = {
      method: 'PATCH',
      resource: 'Users',
      id,
      data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'From Bulk' }] },
    };
    const entries: Entry[] = [{ index: 0, op }];
    await prepareUserEntries({ db: ctx.db, publicUrl: PUBLIC_URL, log: logger }, ws.workspaceId, entries);
    expect(entries[0]!.item).toMatchObject({ expectedVersion: 1, optimistic: true });
    // Another write lands between the read and the Bulk's write: the engine refuses the stale item.
    const between = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'nickName', value: 'In between' }],
    });
    expect(between.status).toBe(200);
    const [stale] = await provision(ctx.db, ws.workspaceId, [entries[0]!.item!], {
      mode: 'upsert',
      dryRun: false,
      sendInvites: false,
      source: 'scim',
      actor: 'test',
    });
    expect(stale).toMatchObject({ status: 'failed', errorCode: 'precondition_failed' });
    const read = await scim('GET', `/Users/${id}`);
    expect(read.body.nickName).toBe('In between');
    // The runner's answer to that refusal: read and apply again (the run itself is in the next test).
  });

  it('loses no update when its PATCHes race single PATCHes of the same users', async () => {
    const created = await bulk(Array.from({ length: 40 }, (_, i) => post(`race${i}`)));
    const ids: string[] = created.body.Operations.map((o: { location: string }) =>
      o.location.split('/').pop(),
    );
    const patchOf = (path: string, value: string) => ({
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path, value }],
    });
    // Single PATCHes of nickName keep coming while the Bulk PATCHes title: each user's last nickName
    // and the Bulk's title must both be there at the end.
    let running = true;
    const last = new Map<string, string>();
    const singles = ids.map(async (id) => {
      for (let round = 0; running || round < 2; round += 1) {
        const res = await scim('PATCH', `/Users/${id}`, patchOf('nickName', `round ${round}`));
        expect(res.status).toBe(200);
        last.set(id, `round ${round}`);
      }
    });
    const bulkRes = await bulk(
      ids.map((id) => ({ method: 'PATCH', path: `/Users/${id}`, data: patchOf('title', 'From Bulk') })),
    );
    running = false;
    await Promise.all(singles);
    expect(bulkRes.body.Operations.map((o: { status: string }) => o.status)).toEqual(ids.map(() => '200'));
    const admin = await makeToken(ctx.db, ws.workspaceId, ['admin']);
    const round = (attributes: unknown): number => {
      const nickName = (attributes as { nickName?: string } | null)?.nickName;
      return nickName === undefined ? -1 : Number(nickName.replace('round ', ''));
    };
    for (const id of ids) {
      const read = await scim('GET', `/Users/${id}`);
      expect({ title: read.body.title, nickName: read.body.nickName }).toEqual({
        title: 'From Bulk',
        nickName: last.get(id),
      });
      // A lost update would show as a write that took nickName back to an earlier round.
      const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${id}&limit=1000`, { token: admin });
      for (const event of audit.body.data as { changes: { attributes?: { from: unknown; to: unknown } } }[]) {
        const change = event.changes?.attributes;
        if (change) expect(round(change.to)).toBeGreaterThanOrEqual(round(change.from));
      }
    }
  });

  it('creates 1,000 users in one request, each 201 with its location, in one engine batch', async () => {
    const operations = Array.from({ length: 1000 }, (_, i) => post(`u${i}`, user({ externalId: `x-${i}` })));
    const res = await bulk(operations);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.body.schemas).toEqual([BULK_RESPONSE]);
    expect(res.body.Operations).toHaveLength(1000);
    res.body.Operations.forEach((op: any, i: number) => {
      expect(op).toMatchObject({ method: 'POST', bulkId: `u${i}`, status: '201', version: 'W/"1"' });
      expect(op.location).toMatch(new RegExp(`^${BASE}/Users/[0-9a-f-]{36}$`));
    });
    const first = await call(ctx.app, 'GET', res.body.Operations[0].location.replace(PUBLIC_URL, ''), {
      token,
    });
    expect(first.body).toMatchObject({ externalId: 'x-0', active: true });
    // users.created_at is the transaction's start: one distinct value per transaction that created them.
    const { rows } = await sql<{ users: number; transactions: number }>`
      select count(*)::int as users, count(distinct created_at)::int as transactions
      from users where workspace_id = ${ws.workspaceId} and external_id like 'x-%'`.execute(ctx.db);
    expect(rows[0]).toEqual({ users: 1000, transactions: 1 });
    const audit = await sql<{ n: number }>`select count(*)::int as n from audit_events
      where workspace_id = ${ws.workspaceId} and action = 'user.created' and source = 'scim'
        and actor = ${token.split('_').slice(0, 2).join('_')}`.execute(ctx.db);
    expect(audit.rows[0]!.n).toBeGreaterThanOrEqual(1000);
  });

  it('resolves bulkId references in paths and data, forward ones included', async () => {
    const manager = user();
    const res = await bulk([
      {
        method: 'PATCH',
        path: '/Users/bulkId:mgr',
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Boss' }] },
      },
      post('emp', user({ [ENTERPRISE]: { manager: { value: 'bulkId:mgr' } } })),
      post('mgr', manager),
    ]);
    expect(res.status).toBe(200);
    const [patch, employee, created] = res.body.Operations;
    expect(created).toMatchObject({ method: 'POST', bulkId: 'mgr', status: '201' });
    expect(patch).toMatchObject({
      method: 'PATCH',
      status: '200',
      location: created.location,
      version: 'W/"2"',
    });
    expect(employee.status).toBe('201');
    const managerId = created.location.split('/').pop();
    const emp = await call(ctx.app, 'GET', employee.location.replace(PUBLIC_URL, ''), { token });
    expect(emp.body[ENTERPRISE].manager.value).toBe(managerId);
    const mgr = await call(ctx.app, 'GET', created.location.replace(PUBLIC_URL, ''), { token });
    expect(mgr.body.title).toBe('Boss');
  });

  it('fails operations whose references are circular with 409, and runs the rest', async () => {
    const res = await bulk([
      post('a', user({ [ENTERPRISE]: { manager: { value: 'bulkId:b' } } })),
      post('b', user({ [ENTERPRISE]: { manager: { value: 'bulkId:a' } } })),
      post('self', user({ [ENTERPRISE]: { manager: { value: 'bulkId:self' } } })),
      post('c', user()),
    ]);
    expect(res.status).toBe(200);
    const [a, b, self, c] = res.body.Operations;
    for (const op of [a, b, self]) {
      expect(op).toMatchObject({ status: '409', response: { schemas: [ERROR], status: '409' } });
      expect(op.response.detail).toMatch(/circular/);
      expect(op.location).toBeUndefined();
    }
    expect(c.status).toBe('201');
  });

  it('fails an operation that references an unknown bulkId or a failed POST, on its own', async () => {
    const taken = user();
    await bulk([post('first', taken)]);
    const res = await bulk([
      post('dup', { ...user(), userName: taken.userName }),
      { method: 'DELETE', path: '/Users/bulkId:dup' },
      { method: 'DELETE', path: '/Users/bulkId:nowhere' },
      post('ok', user()),
    ]);
    const [dup, dependent, unknown, ok] = res.body.Operations;
    expect(dup).toMatchObject({ status: '409', response: { scimType: 'uniqueness' } });
    expect(dependent).toMatchObject({ method: 'DELETE', status: '409' });
    expect(dependent.response.detail).toContain("bulkId 'dup'");
    expect(unknown).toMatchObject({ status: '400', response: { scimType: 'invalidValue' } });
    expect(ok.status).toBe('201');
  });

  it('answers 409 uniqueness for a duplicate userName in that operation only', async () => {
    const existing = user();
    await bulk([post('e', existing)]);
    const twin = user();
    const res = await bulk([
      post('one', user()),
      post('clash', { ...user(), userName: existing.userName.toUpperCase() }),
      post('twin1', twin),
      post('twin2', { ...user(), userName: twin.userName }),
      post('two', user()),
    ]);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['201', '409', '201', '409', '201']);
    expect(res.body.Operations[1].response).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(res.body.Operations[3].response).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(res.body.Operations[3].response.detail).toMatch(
      /is taken by an earlier operation of this request\.$/,
    );
  });

  it('answers 400 for an invalid user in its operation, as POST /Users does', async () => {
    const bad = { schemas: [CORE], userName: 'no-email', emails: [{ value: 'not an address' }] };
    const single = await scim('POST', '/Users', bad);
    const res = await bulk([post('bad', bad), post('good', user())]);
    expect(res.body.Operations[0]).toMatchObject({ status: String(single.status), response: single.body });
    expect(res.body.Operations[1].status).toBe('201');
  });

  it('stops after failOnErrors errors and leaves the rest out', async () => {
    const existing = user();
    await bulk([post('e', existing)]);
    const after = user();
    const res = await bulk(
      [post('ok', user()), post('clash', { ...user(), userName: existing.userName }), post('after', after)],
      { failOnErrors: 1 },
    );
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['201', '409']);
    expect(await findByUserName(after.userName)).toEqual([]);
  });

  it('counts errors known before the engine towards failOnErrors', async () => {
    const later = user();
    const res = await bulk(
      [
        post('bad1', { schemas: [CORE] }),
        post('fine', user()),
        { method: 'DELETE', path: '/Users/not-a-user' },
        post('later', later),
      ],
      { failOnErrors: 2 },
    );
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['400', '201', '404']);
    expect(await findByUserName(later.userName)).toEqual([]);
  });

  it('replaces, patches and deletes, honouring version as If-Match', async () => {
    const created = await bulk([post('p', user()), post('d', user())]);
    const [p, d] = created.body.Operations;
    const path = (op: any) => op.location.replace(BASE, '');
    const res = await bulk([
      { method: 'PUT', path: path(p), version: 'W/"1"', data: user({ title: 'Put' }) },
      {
        method: 'PATCH',
        path: path(p),
        version: 'W/"1"',
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
      },
      { method: 'DELETE', path: path(d) },
    ]);
    const [put, patch, del] = res.body.Operations;
    expect(put).toMatchObject({ method: 'PUT', status: '200', version: 'W/"2"', location: p.location });
    expect(patch).toMatchObject({ method: 'PATCH', status: '412', location: p.location });
    expect(del).toMatchObject({ method: 'DELETE', status: '204', location: d.location });
    expect((await call(ctx.app, 'GET', `/scim/v2${path(d)}`, { token })).status).toBe(404);
  });

  it('runs a second operation on the same user after the first, seeing its write', async () => {
    const created = (await bulk([post('twice', user())])).body.Operations[0];
    const path = created.location.replace(BASE, '');
    const patch = (attribute: string, value: string) => ({
      method: 'PATCH',
      path,
      data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: attribute, value }] },
    });
    const res = await bulk([patch('title', 'First'), patch('nickName', 'Second')]);
    expect(res.body.Operations.map((o: any) => [o.status, o.version])).toEqual([
      ['200', 'W/"2"'],
      ['200', 'W/"3"'],
    ]);
    const now = await call(ctx.app, 'GET', `/scim/v2${path}`, { token });
    expect(now.body).toMatchObject({ title: 'First', nickName: 'Second' });
  });

  it("answers 404 in the operation for another workspace's user", async () => {
    const other = await makeWorkspace(ctx.db);
    const otherToken = await makeToken(ctx.db, other.workspaceId, ['scim']);
    const theirs = (await bulk([post('t', user())], {}, { token: otherToken })).body.Operations[0];
    const id = theirs.location.split('/').pop();
    const res = await bulk([
      { method: 'PUT', path: `/Users/${id}`, data: user() },
      {
        method: 'PATCH',
        path: `/Users/${id}`,
        data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'x' }] },
      },
      { method: 'DELETE', path: `/Users/${id}` },
    ]);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['404', '404', '404']);
    const still = await call(ctx.app, 'GET', `/scim/v2/Users/${id}`, { token: otherToken });
    expect(still.status).toBe(200);
    expect(still.body.title).toBeUndefined();
  });

  it('runs Groups operations with bulkId references to users, forward ones included', async () => {
    const [a, b] = [user(), user()];
    const res = await bulk([
      // The group refers to users created later in the request: it runs after them.
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'team',
        data: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'Bulk Team',
          members: [{ value: 'bulkId:a' }, { value: 'bulkId:b' }],
        },
      },
      post('a', a),
      post('b', b),
      {
        method: 'PATCH',
        path: '/Groups/bulkId:team',
        data: {
          schemas: [PATCH_OP],
          Operations: [{ op: 'remove', path: 'members', value: [{ value: 'bulkId:b' }] }],
        },
      },
      { method: 'POST', path: '/Groups', bulkId: 'dup', data: { schemas: [GROUP], displayName: 'ADMIN' } },
    ]);
    expect(res.status).toBe(200);
    const [group, ua, ub, patched, dup] = res.body.Operations;
    expect(group).toMatchObject({ method: 'POST', bulkId: 'team', status: '201' });
    expect(group.location).toMatch(new RegExp(`^${BASE}/Groups/[0-9a-f-]{36}$`));
    expect(group.version).toMatch(/^W\/"\d+"$/);
    expect(patched).toMatchObject({ method: 'PATCH', status: '200', location: group.location });
    expect(dup).toMatchObject({ status: '409', response: { scimType: 'uniqueness' } });
    const groupId = group.location.split('/').pop();
    const read = await scim('GET', `/Groups/${groupId}`);
    expect(read.body.members.map((m: any) => m.value)).toEqual([ua.location.split('/').pop()]);
    const member = await scim('GET', `/Users/${ua.location.split('/').pop()}`);
    expect(member.body['urn:ietf:params:scim:schemas:extension:loopit:2.0:User'].role).toBe('Bulk Team');
    expect(ub.status).toBe('201');
  });

  it('deletes a group in a Bulk and refuses the default role’s group in its operation only', async () => {
    const created = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Short Lived' });
    const roles = await call(ctx.app, 'GET', '/v1/roles', { token: ws.token });
    const admin = roles.body.data.find((r: { name: string }) => r.name === 'Admin').id;
    const res = await bulk([
      { method: 'DELETE', path: `/Groups/${created.body.id as string}` },
      { method: 'DELETE', path: `/Groups/${admin as string}` },
    ]);
    expect(res.body.Operations.map((o: any) => o.status)).toEqual(['204', '400']);
    expect(res.body.Operations[1].response.scimType).toBe('mutability');
    expect((await scim('GET', `/Groups/${created.body.id as string}`)).status).toBe(404);
  });

  it('invites the users it creates when the workspace sends SCIM invitations', async () => {
    const inviting = await makeWorkspace(ctx.db);
    const settings = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: inviting.token,
      body: { scimSendInvites: true },
    });
    expect(settings.status).toBe(200);
    const scimToken = await makeToken(ctx.db, inviting.workspaceId, ['scim']);
    const res = await bulk([post('i', user())], {}, { token: scimToken });
    expect(res.body.Operations[0].status).toBe('201');
    const id = res.body.Operations[0].location.split('/').pop();
    const rest = await call(ctx.app, 'GET', `/v1/users/${id}`, { token: inviting.token });
    expect(rest.body).toMatchObject({
      status: 'invited',
      managedBy: 'scim',
      invitation: { status: 'pending' },
    });
  });

  it('answers an empty request with no operations', async () => {
    const res = await bulk([]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ schemas: [BULK_RESPONSE], Operations: [] });
  });
});

describe('a Bulk run', () => {
  it('skips the operations a previous run recorded, and runs a finished request no more', async () => {
    const done = user();
    const todo = user();
    const operations: BulkOperation[] = [
      { method: 'POST', resource: 'Users', bulkId: 'done', data: done },
      { method: 'POST', resource: 'Users', bulkId: 'todo', data: todo },
    ];
    const id = '01930000-0000-7000-8000-000000000001';
    await insertBulkRequest(ctx.db, {
      workspaceId: ws.workspaceId,
      id,
      actor: 'test',
      failOnErrors: null,
      operations,
    });
    await startBulkRequest(ctx.db, ws.workspaceId, id);
    const recorded = { method: 'POST' as const, resource: 'Users' as const, bulkId: 'done', status: '201' };
    expect(await recordBulkResults(ctx.db, ws.workspaceId, id, { 0: recorded }, 1)).toBe(true);
    const deps = { db: ctx.db, publicUrl: PUBLIC_URL, batchSize: 1000, log: logger };
    expect(await runBulkRequest(deps, ws.workspaceId, id)).toMatchObject({ ran: true, batches: 1 });
    expect(await findByUserName(done.userName)).toEqual([]);
    expect(await findByUserName(todo.userName)).toHaveLength(1);
    expect(await runBulkRequest(deps, ws.workspaceId, id)).toMatchObject({ ran: false });
    const res = await scim('GET', `/Bulk/${id}`);
    expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([
      ['done', '201'],
      ['todo', '201'],
    ]);
  });
});

describe('the Bulk job', () => {
  it('gives a request up once its workers died BULK_MAX_STALLS times: what is not recorded answers 500', async () => {
    const [done, todo] = [user(), user()];
    const id = '01930000-0000-7000-8000-000000000003';
    await insertBulkRequest(ctx.db, {
      workspaceId: ws.workspaceId,
      id,
      actor: 'test',
      failOnErrors: null,
      operations: [
        { method: 'POST', resource: 'Users', bulkId: 'done', data: done },
        { method: 'POST', resource: 'Users', bulkId: 'todo', data: todo },
      ],
    });
    await startBulkRequest(ctx.db, ws.workspaceId, id);
    const recorded = { method: 'POST' as const, resource: 'Users' as const, bulkId: 'done', status: '201' };
    expect(await recordBulkResults(ctx.db, ws.workspaceId, id, { 0: recorded }, 1)).toBe(true);
    const job = {
      data: { workspaceId: ws.workspaceId, requestId: id },
      stalledCounter: BULK_MAX_STALLS,
      attemptsMade: 0,
      opts: { attempts: 5 },
    } as Job<{ workspaceId: string; requestId: string }>;
    const workerCtx = { config: ctx.config, db: ctx.db, shuttingDown: () => false };
    expect(await bulkJob(job, workerCtx as unknown as WorkerContext, logger)).toEqual({ abandoned: true });
    expect(await findByUserName(todo.userName)).toEqual([]);
    const res = await scim('GET', `/Bulk/${id}`);
    expect(res.body.Operations.map((o: any) => [o.bulkId, o.status])).toEqual([
      ['done', '201'],
      ['todo', '500'],
    ]);
  });
});

describe('a Bulk group operation', () => {
  const requestId = '01930000-0000-7000-8000-000000000002';
  const events = async (action: string, targetId: string) =>
    (
      await sql<{ n: number }>`select count(*)::int as n from audit_events
        where workspace_id = ${ws.workspaceId} and action = ${action} and target_id = ${targetId}`.execute(
        ctx.db,
      )
    ).rows[0]!.n;
  const members = async (roleId: string) =>
    (
      await ctx.db
        .selectFrom('group_memberships')
        .select('user_id')
        .where('workspace_id', '=', ws.workspaceId)
        .where('role_id', '=', roleId)
        .execute()
    ).map((m) => m.user_id);

  afterAll(async () => {
    await sql`drop trigger if exists fail_bulk_record on scim_bulk_requests`.execute(ctx.db);
    await sql`drop function if exists fail_bulk_record()`.execute(ctx.db);
  });

  it('commits with its recorded result: a record that fails rolls the write back, and the re-run applies it once', async () => {
    const team = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Resume Team' });
    const member = await scim('POST', '/Users', user());
    const teamId = team.body.id as string;
    const operations: BulkOperation[] = [
      {
        method: 'POST',
        resource: 'Groups',
        bulkId: 'made',
        data: { schemas: [GROUP], displayName: 'Resume Made' },
      },
      {
        // Sent with the version it read: applied twice, the second would answer 412.
        method: 'PATCH',
        resource: 'Groups',
        id: teamId,
        version: team.body.meta.version,
        data: {
          schemas: [PATCH_OP],
          Operations: [{ op: 'add', path: 'members', value: [{ value: member.body.id }] }],
        },
      },
    ];
    await insertBulkRequest(ctx.db, {
      workspaceId: ws.workspaceId,
      id: requestId,
      actor: 'test',
      failOnErrors: null,
      operations,
    });
    // Recording operation 1's result fails, as when the worker dies between the write and its record.
    await sql`create function fail_bulk_record() returns trigger language plpgsql as $$
      begin
        if new.results ? '1' then raise exception 'the worker died here'; end if;
        return new;
      end $$`.execute(ctx.db);
    await sql`create trigger fail_bulk_record before update on scim_bulk_requests
      for each row execute function fail_bulk_record()`.execute(ctx.db);
    const deps = { db: ctx.db, publicUrl: PUBLIC_URL, batchSize: 1000, log: logger };
    await expect(runBulkRequest(deps, ws.workspaceId, requestId)).rejects.toThrow(/the worker died here/);

    // Operation 0 committed with its result; operation 1's write went with its failed record.
    const first = await bulkResults(ctx.db, ws.workspaceId, requestId);
    expect(Object.keys(first!.results)).toEqual(['0']);
    const made = first!.results['0']!.id!;
    expect(await events('group.created', made)).toBe(1);
    expect(await members(teamId)).toEqual([]);
    expect(await events('group.updated', teamId)).toBe(0);

    await sql`drop trigger fail_bulk_record on scim_bulk_requests`.execute(ctx.db);
    expect(await runBulkRequest(deps, ws.workspaceId, requestId)).toMatchObject({ ran: true });
    const res = await scim('GET', `/Bulk/${requestId}`);
    expect(res.body.Operations.map((o: any) => [o.method, o.status])).toEqual([
      ['POST', '201'],
      ['PATCH', '200'],
    ]);
    expect(res.body.Operations[0].location).toBe(`${BASE}/Groups/${made}`);
    // Each applied once: one group made (not a 409 for its own name), one membership change.
    expect(await events('group.created', made)).toBe(1);
    expect(await members(teamId)).toEqual([member.body.id]);
    expect(await events('group.updated', teamId)).toBe(1);
    const read = await scim('GET', `/Groups/${teamId}`);
    expect(read.body.meta.version).toBe(res.body.Operations[1].version);
    expect(read.body.meta.version).not.toBe(team.body.meta.version);
  });
});

describe('POST /scim/v2/Bulk refusals', () => {
  const staged = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from scim_bulk_requests`.execute(ctx.db)).rows[0]!.n;

  it('answers 413 for more than maxOperations operations, staging nothing', async () => {
    const before = await staged();
    const res = await bulk(Array.from({ length: 1001 }, (_, i) => post(`o${i}`, { userName: 'x' })));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '413' });
    expect(res.body.scimType).toBeUndefined();
    expect(res.body.detail).toContain('1000');
    expect(await staged()).toBe(before);
  });

  it('answers 413 stating maxPayloadSize for a larger body', async () => {
    const big = {
      schemas: [BULK_REQUEST],
      Operations: [post('big', user({ title: 'x'.repeat(2_100_000) }))],
    };
    const res = await scim('POST', '/Bulk', big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '413' });
    expect(res.body.detail).toContain('2097152');
  });

  it('takes a body just under maxPayloadSize', async () => {
    const body = {
      schemas: [BULK_REQUEST],
      // Strings are at most 65,536 characters (see /Schemas): the padding is 30 long phone numbers.
      Operations: [
        post(
          'pad',
          user({
            phoneNumbers: Array.from({ length: 30 }, (_, i) => ({ value: `${i}${'x'.repeat(62_000)}` })),
          }),
        ),
      ],
    };
    const res = await scim('POST', '/Bulk', body);
    expect(res.status).toBe(200);
    expect(res.body.Operations[0].status).toBe('201');
  });

  it.each([
    ['a body that is not JSON', '{"schemas":', 'invalidSyntax'],
    ['a body without the BulkRequest schema', { Operations: [] }, 'invalidSyntax'],
    ['Operations that is not an array', { schemas: [BULK_REQUEST], Operations: {} }, 'invalidSyntax'],
    [
      'an unknown method',
      { schemas: [BULK_REQUEST], Operations: [{ method: 'GET', path: '/Users' }] },
      'invalidValue',
    ],
    [
      'a POST without bulkId',
      { schemas: [BULK_REQUEST], Operations: [{ method: 'POST', path: '/Users', data: {} }] },
      'invalidValue',
    ],
    [
      'an unknown path',
      { schemas: [BULK_REQUEST], Operations: [post('x')].map((o) => ({ ...o, path: '/Things' })) },
      'invalidPath',
    ],
    [
      'a PUT without an id',
      { schemas: [BULK_REQUEST], Operations: [{ method: 'PUT', path: '/Users', data: {} }] },
      'invalidPath',
    ],
    [
      'a PATCH without data',
      { schemas: [BULK_REQUEST], Operations: [{ method: 'PATCH', path: '/Users/x' }] },
      'invalidSyntax',
    ],
    [
      'a repeated bulkId',
      { schemas: [BULK_REQUEST], Operations: [post('same'), post('same')] },
      'invalidValue',
    ],
    ['failOnErrors of 0', { schemas: [BULK_REQUEST], failOnErrors: 0, Operations: [] }, 'invalidValue'],
  ])('answers 400 for %s, staging nothing', async (_what, body, scimType) => {
    const before = await staged();
    const res =
      typeof body === 'string'
        ? await call(ctx.app, 'POST', '/scim/v2/Bulk', {
            token,
            body,
            headers: { 'content-type': 'application/scim+json' },
          })
        : await scim('POST', '/Bulk', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType });
    expect(await staged()).toBe(before);
  });

  it('answers 401 without a token', async () => {
    const res = await call(ctx.app, 'POST', '/scim/v2/Bulk', {
      body: { schemas: [BULK_REQUEST], Operations: [] },
    });
    expect(res.status).toBe(401);
    expect(res.body.schemas).toEqual([ERROR]);
  });
});

describe('a Bulk request that outlasts its wait', () => {
  it('answers 503 with Retry-After, and the work completes once a worker runs', async () => {
    // No worker listens on this queue prefix.
    const config = testConfig(ctx.databaseName, { PUBLIC_URL, SCIM_BULK_WAIT_SECONDS: '1' });
    const idle = await buildApp({ config, db: ctx.db, logger: false });
    const later = user();
    let res;
    try {
      res = await bulk([post('late', later)], {}, { app: idle });
    } finally {
      await idle.close();
    }
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '503' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers.location).toMatch(new RegExp(`^${BASE}/Bulk/[0-9a-f-]{36}$`));
    const late = await startWorkers({ config, db: ctx.db, logger, sweepTasks: [] });
    try {
      const result = await scim('GET', res.headers.location!.toString().replace(BASE, ''));
      expect(result.status).toBe(200);
      expect(result.body.Operations[0]).toMatchObject({ bulkId: 'late', status: '201' });
    } finally {
      await late.close();
    }
    expect(await findByUserName(later.userName)).toHaveLength(1);
  });

  it('is enqueued by the sweeper when Redis was down at the request', async () => {
    const config = testConfig(ctx.databaseName, {
      PUBLIC_URL,
      SCIM_BULK_WAIT_SECONDS: '1',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const offline = await buildApp({ config, db: ctx.db, logger: false });
    const lost = user();
    let res;
    try {
      res = await bulk([post('lost', lost)], {}, { app: offline });
    } finally {
      await offline.close();
    }
    expect(res.status).toBe(503);
    const connection = producerConnection(ctx.config.redisUrl);
    const queues = new Queues(connection, ctx.config.queuePrefix);
    try {
      expect(await bulkSweepTask({ db: ctx.db, queues, logger }).run()).toBe(1);
      const result = await scim('GET', res.headers.location!.toString().replace(BASE, ''));
      expect(result.body.Operations[0]).toMatchObject({ bulkId: 'lost', status: '201' });
      expect(await bulkSweepTask({ db: ctx.db, queues, logger }).run()).toBe(0);
    } finally {
      await queues.close();
      connection.disconnect();
    }
    expect(await findByUserName(lost.userName)).toHaveLength(1);
  });

  it("answers 404 for another workspace's Bulk request", async () => {
    const other = await makeWorkspace(ctx.db);
    const otherToken = await makeToken(ctx.db, other.workspaceId, ['scim']);
    const { rows } = await sql<{ id: string }>`select id from scim_bulk_requests
      where workspace_id = ${ws.workspaceId} limit 1`.execute(ctx.db);
    const res = await scim('GET', `/Bulk/${rows[0]!.id}`, undefined, { token: otherToken });
    expect(res.status).toBe(404);
  });
});
