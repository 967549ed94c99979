import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  FAULT_ROWS,
  HANG_MS,
  importState,
  kill,
  newWorkspace,
  untilProcessed,
  untilTerminal,
  uploadCsv,
  useFaultEnv,
  usersCsv,
} from './harness.js';

const env = useFaultEnv();

describe('a worker killed with SIGKILL during a revert', () => {
  it(
    'finishes the revert after a restart: every user the import created deleted once, nothing else touched',
    async () => {
      const ws = await newWorkspace(env);
      await env.start('api');
      let worker = await env.start('worker');
      // Invitations off: this test is about the revert, not the e-mail drain.
      const csv = usersCsv('rv', FAULT_ROWS);
      const res = await env.api('/v1/imports?sendInvites=false', {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'text/csv' },
        body: csv,
      });
      expect(res.status).toBe(202);
      const importId = ((await res.json()) as { id: string }).id;
      expect(await untilTerminal(env, importId)).toBe('completed');
      // Someone who is not in the import stays.
      const keeper = await uploadCsv(env, ws.token, 'email,name\nkeeper@example.com,Keeper\n');
      expect(await untilTerminal(env, keeper)).toBe('completed');

      const started = await env.api(`/v1/imports/${importId}/revert`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.token}` },
      });
      expect(started.status).toBe(202);
      const revertId = ((await started.json()) as { id: string }).id;
      await untilProcessed(env, revertId, Math.floor(FAULT_ROWS / 3));
      expect(await kill(worker)).toBeNull();
      const at = await importState(env.db, revertId);
      console.info(`worker-kill-revert: killed at ${at.processed_rows} of ${FAULT_ROWS} rows`);
      worker = await env.start('worker');
      expect(await untilTerminal(env, revertId)).toBe('completed');

      const revert = await importState(env.db, revertId);
      expect(revert).toMatchObject({ processed_rows: FAULT_ROWS, failed: 0 });
      const { rows: statuses } = await sql<{ status: string; n: number }>`
        select status, count(*)::int as n from import_rows where import_id = ${revertId} group by status`.execute(
        env.db,
      );
      expect(statuses).toEqual([{ status: 'deleted', n: FAULT_ROWS }]);
      const { rows: users } = await sql<{ live: number; deleted: number }>`
        select count(*) filter (where deleted_at is null)::int as live,
               count(*) filter (where deleted_at is not null)::int as deleted
        from users where workspace_id = ${ws.workspaceId}`.execute(env.db);
      expect(users[0]).toEqual({ live: 1, deleted: FAULT_ROWS });
      // Each user deleted once: one journal event each, none twice.
      const { rows: events } = await sql<{ n: number; users: number }>`
        select count(*)::int as n, count(distinct user_id)::int as users from audit_events
        where workspace_id = ${ws.workspaceId} and source = ${`revert:${revertId}`}
          and target_type = 'user'`.execute(env.db);
      expect(events[0]).toEqual({ n: FAULT_ROWS, users: FAULT_ROWS });
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );

  it(
    'no invitation e-mail goes out for a user the revert deleted while it was still queued',
    async () => {
      const ws = await newWorkspace(env);
      if (!env.services.some((s) => s.role === 'api' && s.child.exitCode === null)) await env.start('api');
      // A slow drain (2 a second), so that most invitations are still queued when the revert runs.
      const worker = await env.start('worker', { EMAIL_RATE_PER_SECOND: '2' });
      const n = 40;
      const importId = await uploadCsv(env, ws.token, usersCsv('rq', n));
      expect(await untilTerminal(env, importId)).toBe('completed');
      const started = await env.api(`/v1/imports/${importId}/revert`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.token}` },
      });
      expect(started.status).toBe(202);
      const revertId = ((await started.json()) as { id: string }).id;
      expect(await untilTerminal(env, revertId)).toBe('completed');
      const to = (addresses: string[]) => addresses.filter((a) => a.startsWith('rq'));
      const atRevert = env.smtp.received.flatMap((m) => to(m.to));
      // Long enough for the slow drain to have sent the rest, had they not been revoked.
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      const received = env.smtp.received.flatMap((m) => to(m.to));
      const { rows } = await sql<{ sent: number; revoked: number; unsent: number }>`
        select count(*) filter (where send_state = 'sent')::int as sent,
               count(*) filter (where status = 'revoked')::int as revoked,
               count(*) filter (where send_state <> 'sent')::int as unsent
        from invitations where workspace_id = ${ws.workspaceId}`.execute(env.db);
      console.info(
        `worker-kill-revert: ${atRevert.length} of ${n} e-mails out when the revert finished, ${received.length} after 8 s`,
      );
      // At most the slice already going out when the revert committed (2 messages at this rate, each
      // checked just before it is handed to the server); nothing queued behind it is sent after.
      expect(received.length).toBeLessThanOrEqual(atRevert.length + 2);
      expect(new Set(received).size).toBe(received.length);
      expect(rows[0]).toEqual({ sent: received.length, revoked: n, unsent: n - received.length });
      expect(n - received.length).toBeGreaterThanOrEqual(n - 4);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS,
  );
});
