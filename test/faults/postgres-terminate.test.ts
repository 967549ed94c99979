import { describe, expect, it } from 'vitest';
import { adminQuery } from '../support/databases.js';
import {
  expectImportIntact,
  FAULT_ROWS,
  HANG_MS,
  inFlight,
  kill,
  newWorkspace,
  untilMailed,
  untilProcessed,
  until,
  untilTerminal,
  uploadCsv,
  useFaultEnv,
  usersCsv,
} from './harness.js';

const env = useFaultEnv();

/** Terminates every backend of this test's own database (never another's), and says what they were doing. */
async function terminateBackends(database: string) {
  const { rows } = await adminQuery<{ application_name: string; in_transaction: boolean; done: boolean }>(
    `select application_name, xact_start is not null as in_transaction, pg_terminate_backend(pid) as done
     from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [database],
  );
  return rows;
}

const sent = async (workspaceId: string) =>
  (
    await env.db
      .selectFrom('invitations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('send_state', '=', 'sent')
      .executeTakeFirstOrThrow()
  ).n;

describe('Postgres backends terminated in the middle of batches and of the e-mail drain', () => {
  it(
    'batches roll back and run again: every row once, nothing twice, no e-mail lost',
    async () => {
      const ws = await newWorkspace(env);
      await env.start('api');
      const worker = await env.start('worker');
      const id = await uploadCsv(env, ws.token, usersCsv('pt', FAULT_ROWS));
      const mayRepeat = new Set<string>();
      let inTransaction = 0;
      // Five times during the batches, then twice while the e-mails are being sent.
      const points = [0.15, 0.3, 0.45, 0.6, 0.75].map((f) => () => untilProcessed(env, id, f * FAULT_ROWS));
      for (const f of [0.5, 0.8])
        points.push(() => until(async () => (await sent(ws.workspaceId)) >= f * FAULT_ROWS));
      for (const point of points) {
        await point();
        const killed = await terminateBackends(env.databaseName);
        expect(killed.every((b) => b.done)).toBe(true);
        inTransaction += killed.filter(
          (b) => b.in_transaction && b.application_name.includes('worker'),
        ).length;
        // A message the server accepted whose 'sent' mark died with its connection is sent again.
        await new Promise((r) => setTimeout(r, 300));
        for (const m of await inFlight(env, ws.workspaceId)) mayRepeat.add(m);
      }
      console.info(
        `postgres-terminate: FAULT_ROWS=${FAULT_ROWS}, ${inTransaction} worker backends killed inside a transaction`,
      );
      // The faults hit work in progress, not only idle connections.
      expect(inTransaction).toBeGreaterThan(0);

      expect(await untilTerminal(env, id)).toBe('completed');
      await untilMailed(env, ws.workspaceId);
      await expectImportIntact(env, ws, id, FAULT_ROWS, 'pt', mayRepeat);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );
});
