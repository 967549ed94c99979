import { describe, expect, it } from 'vitest';
import {
  expectImportIntact,
  expireLeases,
  FAULT_ROWS,
  HANG_MS,
  importState,
  inFlight,
  kill,
  newWorkspace,
  untilMailed,
  untilProcessed,
  untilTerminal,
  uploadCsv,
  useFaultEnv,
  usersCsv,
} from './harness.js';

const env = useFaultEnv();
/** FAULT_SEED=... reproduces a run's kill points (printed when the test starts). */
const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A small deterministic generator (mulberry32), so a failing run can be replayed. */
function random(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a worker killed with SIGKILL twice during an import', () => {
  it(
    'finishes the import after restarts: every row once, no duplicate, no e-mail lost',
    async () => {
      const next = random(seed);
      // Two kill points: one in the first half of the rows, one in the second.
      const points = [0.05 + next() * 0.4, 0.5 + next() * 0.4].map((f) => Math.floor(f * FAULT_ROWS));
      console.info(
        `worker-kill: FAULT_ROWS=${FAULT_ROWS} FAULT_SEED=${seed} kill after ${points.join(', ')} rows`,
      );
      const t0 = Date.now();
      const ws = await newWorkspace(env);
      await env.start('api');
      let worker = await env.start('worker');
      const id = await uploadCsv(env, ws.token, usersCsv('wk', FAULT_ROWS));
      const mayRepeat = new Set<string>();

      for (const point of points) {
        await untilProcessed(env, id, point);
        expect(await kill(worker)).toBeNull();
        const at = await importState(env.db, id);
        for (const m of await inFlight(env, ws.workspaceId)) mayRepeat.add(m);
        console.info(
          `worker-kill: killed at ${at.processed_rows} rows, ${env.smtp.received.length} e-mails, ${Date.now() - t0} ms`,
        );
        await expireLeases(env.db, ws.workspaceId);
        worker = await env.start('worker');
      }

      expect(await untilTerminal(env, id)).toBe('completed');
      console.info(`worker-kill: import done at ${Date.now() - t0} ms, ${env.smtp.received.length} e-mails`);
      await untilMailed(env, ws.workspaceId);
      console.info(
        `worker-kill: e-mails done at ${Date.now() - t0} ms; in flight at the kills: ${mayRepeat.size}`,
      );
      await expectImportIntact(env, ws, id, FAULT_ROWS, 'wk', mayRepeat);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );
});
