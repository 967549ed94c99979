import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producerConnection } from '../src/queues/connection.js';
import { Queues } from '../src/queues/producer.js';
import { startWorkers, type WorkerHandle } from '../workers/main.js';
import { assertProcessors, processors } from '../workers/processors.js';
import { Sweeper } from '../workers/sweeper.js';
import { useTestContext } from './support/context.js';

const ctx = useTestContext();
const logger = pino({ level: 'silent' });

describe('the job map', () => {
  it('has a processor for every job name', () => {
    expect(() => assertProcessors(processors)).not.toThrow();
  });

  it('refuses to start a worker when a job name has no processor', async () => {
    expect(() => assertProcessors({ maintenance: {} })).toThrow('no processor for job(s): maintenance/sweep');
    await expect(startWorkers({ config: ctx.config, db: ctx.db, logger, processors: {} })).rejects.toThrow(
      /no processor/,
    );
  });
});

describe('the sweeper', () => {
  it('runs every task, and a failing task does not stop the others', async () => {
    const ran: string[] = [];
    const sweeper = new Sweeper(
      [
        { name: 'broken', run: async () => Promise.reject(new Error('boom')) },
        { name: 'imports', run: async () => (ran.push('imports'), 2) },
      ],
      logger,
    );
    expect(await sweeper.runOnce()).toEqual({ broken: -1, imports: 2 });
    expect(ran).toEqual(['imports']);
  });

  it('shares one run between overlapping calls', async () => {
    let runs = 0;
    const sweeper = new Sweeper(
      [{ name: 't', run: async () => (runs++, new Promise<number>((r) => setTimeout(() => r(0), 50))) }],
      logger,
    );
    await Promise.all([sweeper.runOnce(), sweeper.runOnce()]);
    expect(runs).toBe(1);
  });
});

describe('workers', () => {
  let handle: WorkerHandle;
  let swept = 0;
  const connection = producerConnection('redis://127.0.0.1:6379');
  let queues: Queues;

  beforeAll(async () => {
    connection.on('error', () => {});
    queues = new Queues(connection, ctx.config.queuePrefix);
    handle = await startWorkers({
      config: ctx.config,
      db: ctx.db,
      logger,
      sweepTasks: [{ name: 'count', run: async () => ++swept }],
    });
  });
  afterAll(async () => {
    await handle.close();
    await queues.close();
    connection.disconnect();
  });

  it('sweeps once at start', () => {
    expect(swept).toBe(1);
  });

  it('runs an enqueued job through its processor, under the test’s own queue prefix', async () => {
    await queues.enqueue('maintenance', 'sweep', { reason: 'test' }, { jobId: 'sweep-test-1' });
    const job = await queues.queue('maintenance').getJob('sweep-test-1');
    expect(job).toBeDefined();
    const result: unknown = await new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        void queues
          .queue('maintenance')
          .getJob('sweep-test-1')
          .then((j) => {
            if (j?.finishedOn) {
              clearInterval(poll);
              resolve(j.returnvalue);
            }
          }, reject);
      }, 50);
    });
    expect(result).toEqual({ count: 2 });
    expect(swept).toBe(2);
  });

  it('ignores a second add with the same job id while the job exists', async () => {
    await queues.enqueue('maintenance', 'sweep', { reason: 'again' }, { jobId: 'sweep-test-1' });
    const counts = await queues.queue('maintenance').getJobCounts('waiting', 'active', 'completed');
    expect((counts.completed ?? 0) + (counts.waiting ?? 0) + (counts.active ?? 0)).toBe(1);
  });
});

describe('producers', () => {
  it('fail fast and report false when Redis is unreachable', async () => {
    const down = producerConnection('redis://127.0.0.1:1');
    down.on('error', () => {});
    const q = new Queues(down, '{test-down}');
    const warnings: string[] = [];
    const started = Date.now();
    const ok = await q.tryEnqueue({ warn: (_o, m) => warnings.push(m) }, 'maintenance', 'sweep', {
      reason: 'x',
    });
    expect(ok).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    await q.close();
    down.disconnect();
  });
});
