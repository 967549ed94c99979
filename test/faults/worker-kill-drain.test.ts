import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { invitationMessageId } from '../../src/provisioning/invitation-tokens.js';
import { drainJobId } from '../../src/queues/drain.js';
import { makeInvitations } from '../support/invitations.js';
import {
  HANG_MS,
  inFlight,
  kill,
  newWorkspace,
  serviceLogs,
  until,
  untilMailed,
  useFaultEnv,
} from './harness.js';

const env = useFaultEnv();
/**
 * Invitations to drain. The figure is 50,000 (FAULT_EMAILS=50000, see docs/reliability.md);
 * CI sends a few thousand, which still spreads over two slices of EMAIL_RATE_PER_SECOND=2000.
 */
const EMAILS = Number(process.env.FAULT_EMAILS ?? 4_000);
const RECOVERY_MS = 60_000;
/** 20 ms an e-mail: a loaded two-core machine sent about 100 a second at full size. */
const WAIT_MS = Math.max(HANG_MS, EMAILS * 20);

const received = () => env.smtp.received.length;

describe('a worker killed with SIGKILL while invitation e-mails drain', () => {
  it(
    'sends every leased e-mail within a minute of the restart, a repeat only with the same Message-ID, and no drain job fails',
    async () => {
      const ws = await newWorkspace(env);
      for (let done = 0; done < EMAILS; done += 2_000)
        await makeInvitations(env.db, ws.workspaceId, Math.min(2_000, EMAILS - done), {
          email: (i) => `kd-${done + i}@example.com`,
        });
      // The sweeper at its default pace: recovery must not wait for it.
      const options = { SWEEP_INTERVAL_SECONDS: '60' };
      let worker = await env.start('worker', options);
      const t0 = performance.now();
      const mayRepeat = new Set<string>();
      const leasedAtKills = new Set<string>();

      // First kill in the middle of the first slice; the second as soon as the restarted worker sends
      // again, which is the stalled drain job run a second time (BullMQ's default fails it then).
      for (const after of [Math.floor(EMAILS / 4), 0]) {
        const from = received();
        await until(async () => received() > from + Math.max(after, 50)).catch((error: unknown) => {
          throw new Error(`${String(error)}\n${serviceLogs(env)}`);
        });
        expect(await kill(worker)).toBeNull();
        for (const id of await inFlight(env, ws.workspaceId)) mayRepeat.add(id);
        const leased = await env.db
          .selectFrom('invitations')
          .select('id')
          .where('workspace_id', '=', ws.workspaceId)
          .where('send_state', '=', 'sending')
          .execute();
        for (const r of leased) leasedAtKills.add(invitationMessageId(env.publicUrl, r.id));
        console.info(
          `worker-kill-drain: killed at ${Math.round(performance.now() - t0)} ms, ${received()} e-mails received, ${leased.length} leased`,
        );
        worker = await env.start('worker', options);
      }
      const restartedAt = performance.now();

      await untilMailed(env, ws.workspaceId, WAIT_MS);
      const lastAt = new Map<string, number>();
      for (const m of env.smtp.received)
        lastAt.set(m.messageId, Math.max(lastAt.get(m.messageId) ?? 0, m.at));
      const last = Math.max(...lastAt.values());
      const lastLeased = Math.max(...[...leasedAtKills].map((id) => lastAt.get(id) ?? Infinity));
      console.info(
        `worker-kill-drain: FAULT_EMAILS=${EMAILS}; restarted at ${Math.round(restartedAt - t0)} ms; ` +
          `the messages leased at the kills all arrived ${Math.round(lastLeased - restartedAt)} ms after the restart, ` +
          `the last e-mail ${Math.round(last - restartedAt)} ms after it; ` +
          `${received() - EMAILS} repeats of ${mayRepeat.size} in flight at the kills`,
      );
      // What a kill delays: the leased messages. At CI size everything else is out by then too; at
      // full size the rest takes what the machine's send rate says.
      expect(leasedAtKills.size).toBeGreaterThan(0);
      expect(lastLeased - restartedAt).toBeLessThan(RECOVERY_MS);
      if (EMAILS <= 4_000) expect(last - restartedAt).toBeLessThan(RECOVERY_MS);

      // Every invitation once, under its own Message-ID; twice only if it was in flight at a kill.
      const invitations = await env.db
        .selectFrom('invitations')
        .select('id')
        .where('workspace_id', '=', ws.workspaceId)
        .execute();
      const expected = new Set(invitations.map((i) => invitationMessageId(env.publicUrl, i.id)));
      const perId = new Map<string, number>();
      for (const m of env.smtp.received) perId.set(m.messageId, (perId.get(m.messageId) ?? 0) + 1);
      expect(perId.size).toBe(EMAILS);
      expect([...perId.keys()].filter((id) => !expected.has(id))).toEqual([]);
      expect([...perId].filter(([id, n]) => n > 1 && (!mayRepeat.has(id) || n > 2))).toEqual([]);

      // No drain job failed, stalls included.
      const connection = new Redis(env.redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue('email', { connection, prefix: env.queuePrefix });
      try {
        expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
        for (const id of [drainJobId(ws.workspaceId), `${drainJobId(ws.workspaceId)}-b`])
          expect(await queue.getJobState(id)).not.toBe('failed');
      } finally {
        await queue.close();
        connection.disconnect();
      }
      expect(serviceLogs(env)).not.toMatch(/stalled more than allowable/);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    WAIT_MS * 2,
  );
});
