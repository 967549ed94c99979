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

const env = useFaultEnv();

describe('Redis loses all its data during an import', () => {
  it(
    'the sweeper rebuilds the work from Postgres: every row once, nothing twice, no e-mail lost',
    async () => {
      const ws = await newWorkspace(env);
      await env.start('api');
      const worker = await env.start('worker');
      const id = await uploadCsv(env, ws.token, usersCsv('rl', FAULT_ROWS));
      await untilProcessed(env, id, Math.floor(FAULT_ROWS * 0.3));
      expect(await env.redis.command('FLUSHALL')).toBe('OK');
      const lost = await importState(env.db, id);
      expect(await env.redis.command('DBSIZE')).toBeLessThan(5);
      console.info(`redis-loss: FAULT_ROWS=${FAULT_ROWS}, FLUSHALL at ${lost.processed_rows} rows`);
      expect(lost.status).toBe('processing');

      expect(await untilTerminal(env, id)).toBe('completed');
      await untilMailed(env, ws.workspaceId);
      await expectImportIntact(env, ws, id, FAULT_ROWS, 'rl', new Set());
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );
});
