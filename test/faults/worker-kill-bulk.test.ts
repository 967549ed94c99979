import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { bulkJobId } from '../../src/queues/bulk.js';
import { databaseUrl } from '../support/databases.js';
import { HANG_MS, kill, newWorkspace, serviceLogs, until, useFaultEnv, type FaultEnv } from './harness.js';

const env = useFaultEnv();
const RECOVERY_MS = 60_000;
/** Users the Bulk creates; 200 make 277 operations in all (docs/reliability.md). */
const USERS = Number(process.env.FAULT_BULK_USERS ?? 200);
const GROUPS = 20;

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Op {
  method: string;
  path: string;
  bulkId?: string;
  version?: string;
  data?: unknown;
}
const replace = (path: string, value: unknown) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'replace', path, value }],
});
const postUser = (i: number): Op => ({
  method: 'POST',
  path: '/Users',
  bulkId: `u${i}`,
  data: { schemas: [CORE], userName: `bk-${i}@example.com`, emails: [{ value: `bk-${i}@example.com` }] },
});
const postGroup = (j: number): Op => ({
  method: 'POST',
  path: '/Groups',
  bulkId: `g${j}`,
  data: {
    schemas: [GROUP],
    displayName: `Bulk Group ${j}`,
    members: [{ value: `bulkId:u${2 * j}` }, { value: `bulkId:u${2 * j + 1}` }],
  },
});

/**
 * Undisturbed, the first wave holds every operation without a bulkId reference (user POSTs, in batches
 * of BATCH_SIZE, and the PATCH of `userId` between them, which the test holds locked so that the worker
 * waits there); the second the group POSTs (members made in the first), the PATCH of `groupId` (held
 * locked too, and sent with its version, so that applying it twice would answer 412), PATCHes and
 * DELETEs of users made in the first. Applied twice, a POST would answer 409 and a DELETE 404.
 */
function operations(userId: string, groupId: string, groupVersion: string): Op[] {
  const half = USERS / 2;
  return [
    ...Array.from({ length: half }, (_, i) => postUser(i)),
    { method: 'PATCH', path: `/Users/${userId}`, data: replace('title', 'From Bulk') },
    ...Array.from({ length: USERS - half }, (_, i) => postUser(half + i)),
    ...Array.from({ length: GROUPS / 2 }, (_, j) => postGroup(j)),
    {
      method: 'PATCH',
      path: `/Groups/${groupId}`,
      version: groupVersion,
      data: {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: `bulkId:u${USERS - 10}` }] }],
      },
    },
    ...Array.from({ length: GROUPS / 2 }, (_, j) => postGroup(GROUPS / 2 + j)),
    ...Array.from({ length: 50 }, (_, i) => ({
      method: 'PATCH',
      path: `/Users/bulkId:u${i}`,
      data: replace('title', 'Patched'),
    })),
    ...Array.from({ length: 5 }, (_, i) => ({ method: 'DELETE', path: `/Users/bulkId:u${USERS - 1 - i}` })),
  ];
}

const expectedStatus = (op: Op): string =>
  op.method === 'POST' ? '201' : op.method === 'DELETE' ? '204' : '200';

/** Holds a row lock in a transaction of its own until released: a worker that needs the row waits there. */
async function holdLock(env: FaultEnv, statement: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: databaseUrl(env.databaseName) });
  client.on('error', () => undefined); // the database is dropped with it open when a test fails
  await client.connect();
  await client.query('begin');
  await client.query(statement, values);
  return async () => {
    await client.query('commit');
    await client.end();
  };
}

/** True while a backend of a worker process waits for a lock in a statement that matches `query`. */
async function workerWaits(env: FaultEnv, query: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
    where datname = ${env.databaseName} and application_name = 'loopit-provision-worker'
      and wait_event_type = 'Lock' and query ilike ${query}`.execute(env.db);
  return rows[0]!.n > 0;
}

async function bulkRow(env: FaultEnv, workspaceId: string) {
  const row = await env.db
    .selectFrom('scim_bulk_requests')
    .select(['id', 'status', 'results'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row && { ...row, recorded: Object.keys(row.results).length };
}

const count = async (env: FaultEnv, query: ReturnType<typeof sql<{ n: number }>>) =>
  (await query.execute(env.db)).rows[0]!.n;

describe('a worker killed with SIGKILL while it runs a SCIM Bulk request', () => {
  it(
    'is replaced within a minute, twice, and every operation is applied exactly once',
    async () => {
      const ws = await newWorkspace(env);
      // The sweeper at its default pace: recovery must not wait for it. Batches of 20 users.
      const workerEnv = { SWEEP_INTERVAL_SECONDS: '60', BATCH_SIZE: '20' };
      await env.start('api', { SCIM_BULK_WAIT_SECONDS: '180' });
      const scim = async (method: string, path: string, body?: unknown) => {
        const res = await env.api(`/scim/v2${path}`, {
          method,
          headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'application/scim+json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, headers: res.headers, body: (await res.json()) as any };
      };
      const target = await scim('POST', '/Users', { schemas: [CORE], userName: 'held@example.com' });
      const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Held Group' });
      expect([target.status, group.status]).toEqual([201, 201]);
      const ops = operations(target.body.id, group.body.id, group.body.meta.version);

      const userLock = await holdLock(env, 'select 1 from users where id = $1 for update', [target.body.id]);
      let worker = await env.start('worker', workerEnv);
      const t0 = performance.now();
      const at = () => Math.round(performance.now() - t0);
      const answer = scim('POST', '/Bulk', { schemas: [BULK_REQUEST], Operations: ops });
      answer.catch(() => undefined); // awaited below; a failure before then must not be unhandled
      const fail = (error: unknown) => {
        throw new Error(`${String(error)}\n${serviceLogs(env)}`);
      };

      // Kill 1: the worker waits inside the batch that PATCHes the held user, half the users made.
      await until(() => workerWaits(env, '%users%'), RECOVERY_MS).catch(fail);
      const first = (await bulkRow(env, ws.workspaceId))!;
      expect(first.recorded).toBe(USERS / 2);
      expect(await kill(worker)).toBeNull();
      await userLock();
      const groupLock = await holdLock(env, 'select 1 from roles where id = $1 for update', [group.body.id]);
      worker = await env.start('worker', workerEnv);
      const restarted1 = performance.now();
      console.info(`worker-kill-bulk: killed at ${at()} ms with ${first.recorded} of ${ops.length} recorded`);

      // Kill 2: the restarted worker took the stalled job over and waits in the PATCH of the held group.
      await until(() => workerWaits(env, '%from roles%for no key update%'), RECOVERY_MS).catch(fail);
      const resumedIn = Math.round(performance.now() - restarted1);
      const second = (await bulkRow(env, ws.workspaceId))!;
      // Resumed, the run's first wave is every operation whose references are resolved: the rest of the
      // first wave, and what refers to the users the first worker made. The PATCH of the held group
      // (it refers to a user of the second half) and the DELETEs wait for the next.
      const held = USERS + 1 + GROUPS / 2;
      expect(Object.keys(second.results).map(Number).includes(held)).toBe(false);
      expect(second.recorded).toBe(ops.length - 6);
      expect(await kill(worker)).toBeNull();
      await groupLock();
      worker = await env.start('worker', workerEnv);
      const restarted2 = performance.now();
      console.info(
        `worker-kill-bulk: resumed ${resumedIn} ms after the first restart; killed again at ${at()} ms with ${second.recorded} recorded`,
      );

      await until(
        async () => (await bulkRow(env, ws.workspaceId))?.status === 'done',
        RECOVERY_MS + 30_000,
      ).catch(fail);
      const doneIn = Math.round(performance.now() - restarted2);
      const got = await answer;
      console.info(
        `worker-kill-bulk: done ${doneIn} ms after the second restart; the request answered ${got.status} at ${at()} ms`,
      );
      expect(resumedIn).toBeLessThan(RECOVERY_MS);
      expect(doneIn).toBeLessThan(RECOVERY_MS);

      // The answer: every operation once, each with the status it would have had without a fault.
      const { id } = (await bulkRow(env, ws.workspaceId))!;
      const stored = await scim('GET', `/Bulk/${id}`);
      expect(stored.status).toBe(200);
      if (got.status === 503) {
        expect(got.headers.get('retry-after')).toBeTruthy();
        expect(got.headers.get('location')).toBe(`${env.publicUrl}/scim/v2/Bulk/${id}`);
      } else {
        expect(got.status).toBe(200);
        expect(got.body).toEqual(stored.body);
      }
      const results = stored.body.Operations as { status: string; bulkId?: string; version?: string }[];
      expect(results.map((r) => r.status)).toEqual(ops.map(expectedStatus));
      expect(results.map((r) => r.bulkId)).toEqual(ops.map((o) => o.bulkId));

      // Every effect in Postgres exactly once.
      const w = ws.workspaceId;
      const users = await sql<{ n: number; names: number; live: number }>`select count(*)::int as n,
          count(distinct user_name_key)::int as names, count(*) filter (where deleted_at is null)::int as live
        from users where workspace_id = ${w} and user_name like 'bk-%'`.execute(env.db);
      expect(users.rows[0]).toEqual({ n: USERS, names: USERS, live: USERS - 5 });
      const events = await sql<{ action: string; n: number; targets: number }>`select action,
          count(*)::int as n, count(distinct target_id)::int as targets from audit_events
        where workspace_id = ${w}
          and created_at >= (select created_at from scim_bulk_requests where workspace_id = ${w} and id = ${id})
        group by action`.execute(env.db);
      const byAction = Object.fromEntries(events.rows.map((r) => [r.action, { n: r.n, targets: r.targets }]));
      expect(byAction).toEqual({
        'user.created': { n: USERS, targets: USERS },
        'user.updated': { n: 51, targets: 51 },
        'user.deleted': { n: 5, targets: 5 },
        'group.created': { n: GROUPS, targets: GROUPS },
        'group.updated': { n: 1, targets: 1 },
        // Each member's role moved once: two per new group, and the one added to the held group.
        'user.role_changed': { n: 2 * GROUPS + 1, targets: 2 * GROUPS + 1 },
      });
      expect(
        await count(
          env,
          sql<{
            n: number;
          }>`select count(*)::int as n from roles where workspace_id = ${w} and name like 'Bulk Group %'`,
        ),
      ).toBe(GROUPS);
      expect(
        await count(
          env,
          sql<{ n: number }>`select count(*)::int as n from group_memberships where workspace_id = ${w}`,
        ),
      ).toBe(2 * GROUPS + 1);
      const read = await scim('GET', `/Groups/${group.body.id as string}`);
      expect(read.body.meta.version).toBe(results[held]!.version);
      expect(read.body.meta.version).not.toBe(group.body.meta.version);
      expect((await scim('GET', `/Users/${target.body.id as string}`)).body.title).toBe('From Bulk');

      // No job failed, stalls included.
      const connection = new Redis(env.redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue('scim', { connection, prefix: env.queuePrefix });
      try {
        expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
        expect(await queue.getJobState(bulkJobId(id))).toBe('completed');
      } finally {
        await queue.close();
        connection.disconnect();
      }
      expect(serviceLogs(env)).not.toMatch(/stalled more than allowable/);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS,
  );
});
