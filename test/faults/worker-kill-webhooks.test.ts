import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver.js';
import {
  HANG_MS,
  kill,
  newWorkspace,
  serviceLogs,
  until,
  uploadCsv,
  useFaultEnv,
  usersCsv,
} from './harness.js';

const env = useFaultEnv();
/** Users imported, each a user.created delivery (and one import.completed). */
const USERS = Number(process.env.FAULT_WEBHOOKS ?? 600);
/** Lease (10 s timeout + 20 s) and the run's stall detection (15 s lock, 5 s checks), with room. */
const RECOVERY_MS = 90_000;
const WEBHOOKS = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

let receiver: Receiver | undefined;
afterAll(async () => {
  await receiver?.close();
});

/** The deliveries a dead worker may still hold: attempted, not recorded, leased into the future. */
const leased = async (workspaceId: string): Promise<Set<string>> => {
  const { rows } = await sql<{ event_id: string }>`
    select event_id from webhook_deliveries
    where workspace_id = ${workspaceId} and status = 'pending' and attempts > 0 and next_attempt_at > now()`.execute(
    env.db,
  );
  return new Set(rows.map((r) => r.event_id));
};

const counts = async (workspaceId: string) => {
  const { rows } = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from webhook_deliveries where workspace_id = ${workspaceId}
    group by status`.execute(env.db);
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
};

describe('a worker killed with SIGKILL while webhook deliveries are in flight', () => {
  it(
    'delivers every event, a repeat only of one in flight at a kill and under the same webhook-id',
    async () => {
      // Each answer takes 20 ms, so requests are in flight whenever the worker dies.
      receiver = await startReceiver(() => ({ status: 204, delayMs: 20 }));
      await env.start('api', WEBHOOKS);
      const ws = await newWorkspace(env);
      const res = await env.api('/v1/webhooks', {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${receiver.url}/kill`, events: ['user.created', 'import.completed'] }),
      });
      expect(res.status).toBe(201);
      const endpoint = (await res.json()) as { id: string; secret: string };
      let worker = await env.start('worker', WEBHOOKS);
      const importId = await uploadCsv(env, ws.token, usersCsv('wh', USERS));
      const mayRepeat = new Set<string>();
      const t0 = performance.now();

      // First kill a quarter of the way; the second as soon as the restarted worker delivers again.
      for (const after of [Math.floor(USERS / 4), 20]) {
        const from = receiver.received.length;
        await until(async () => receiver!.received.length >= from + after, HANG_MS).catch(
          (error: unknown) => {
            throw new Error(`${String(error)}\n${serviceLogs(env)}`);
          },
        );
        expect(await kill(worker)).toBeNull();
        const inFlight = await leased(ws.workspaceId);
        for (const id of inFlight) mayRepeat.add(id);
        console.info(
          `worker-kill-webhooks: killed at ${Math.round(performance.now() - t0)} ms, ${receiver.received.length} requests received, ${inFlight.size} deliveries leased`,
        );
        worker = await env.start('worker', WEBHOOKS);
      }
      const restartedAt = performance.now();

      await until(async () => {
        const c = await counts(ws.workspaceId);
        return c.succeeded === USERS + 1 && !c.pending && !c.failed;
      }, RECOVERY_MS + HANG_MS).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}: ${JSON.stringify(await counts(ws.workspaceId))}\n${serviceLogs(env)}`,
        );
      });
      console.info(
        `worker-kill-webhooks: FAULT_WEBHOOKS=${USERS}; all delivered ${Math.round(performance.now() - restartedAt)} ms after the last restart; ` +
          `${receiver.received.length - USERS - 1} repeats of ${mayRepeat.size} in flight at the kills`,
      );

      // The import finished, and every one of its events reached the receiver, signed.
      const imp = await env.api(`/v1/imports/${importId}`, {
        headers: { authorization: `Bearer ${ws.token}` },
      });
      expect(((await imp.json()) as { status: string }).status).toBe('completed');
      const events = await env.db
        .selectFrom('webhook_deliveries')
        .select(['event_id', 'attempts'])
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
      expect(events).toHaveLength(USERS + 1);
      const perId = new Map<string, number>();
      for (const r of receiver.received) {
        const id = String(r.headers['webhook-id']);
        perId.set(id, (perId.get(id) ?? 0) + 1);
      }
      const expected = new Set(events.map((e) => e.event_id));
      expect(perId.size).toBe(USERS + 1);
      expect([...perId.keys()].filter((id) => !expected.has(id))).toEqual([]);
      // Twice at most, and only what a kill caught in flight.
      expect([...perId].filter(([id, n]) => n > 1 && (!mayRepeat.has(id) || n > 2))).toEqual([]);
      const hook = new Webhook(endpoint.secret);
      for (const r of receiver.received)
        expect(JSON.parse(r.body)).toEqual(hook.verify(r.body, r.headers as Record<string, string>));
      // Each body is the event its webhook-id names.
      expect(
        receiver.received.every((r) => (JSON.parse(r.body) as { id: string }).id === r.headers['webhook-id']),
      ).toBe(true);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    (RECOVERY_MS + HANG_MS) * 2,
  );
});
