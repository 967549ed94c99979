import { describe, expect, it } from 'vitest';
import {
  expectImportIntact,
  FAULT_ROWS,
  HANG_MS,
  importState,
  kill,
  newWorkspace,
  untilMailed,
  untilProcessed,
  untilTerminal,
  uploadCsv,
  useFaultEnv,
  usersCsv,
} from './harness.js';

/** A Redis that keeps its data across a restart (append-only file, fsync always). */
const env = useFaultEnv({ persistRedis: true });

describe('Redis restarted during an import', () => {
  it(
    'the import and its e-mails finish once Redis is back: every row once, nothing twice',
    async () => {
      const ws = await newWorkspace(env);
      await env.start('api');
      const worker = await env.start('worker');
      const id = await uploadCsv(env, ws.token, usersCsv('rr', FAULT_ROWS));
      await untilProcessed(env, id, Math.floor(FAULT_ROWS * 0.3));
      await env.redis.stop();
      const down = await importState(env.db, id);
      // Down for a while: workers lose their locks and connections, the drain's next slice cannot be enqueued.
      await new Promise((r) => setTimeout(r, 3_000));
      await env.redis.start();
      console.info(`redis-restart: FAULT_ROWS=${FAULT_ROWS}, Redis down at ${down.processed_rows} rows`);
      expect(down.status).toBe('processing');

      expect(await untilTerminal(env, id)).toBe('completed');
      await untilMailed(env, ws.workspaceId);
      await expectImportIntact(env, ws, id, FAULT_ROWS, 'rr', new Set());
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );
});
