import type { WorkerOptions } from 'bullmq';
import type { Config } from '../src/config.js';
import { drainSlice } from '../src/email/drain.service.js';
import { nextDrainJobId } from '../src/queues/drain.js';
import type { Processor } from './context.js';

/** Past the lease's end, so that the delayed look finds it expired. */
const LEASE_MARGIN_MS = 500;

/** Messages per drain job: K = max(1, floor(rate)); jobs are then spaced K / rate seconds apart. */
export const sliceSize = (ratePerSecond: number): number => Math.max(1, Math.floor(ratePerSecond));

/**
 * BullMQ's limiter is global to the queue (kept in Redis), so one job per K / rate seconds holds the
 * whole service to EMAIL_RATE_PER_SECOND however many worker processes run.
 * A drain job of a worker that died stays active, holding its id (so its workspace's chain waits),
 * until BullMQ sees its lock expire: a short lock brings it back within about 15 s. Running a drain
 * twice is harmless (rows are leased in Postgres), so a false stall costs nothing, and a stall never
 * fails the job: BullMQ's default fails it at the second, which left the chain to the sweeper. A
 * message that kills its worker every time is given up by its own attempt count instead.
 */
/** As good as unlimited: each slice is a new job, so this counts the kills during one slice. */
const STALLS_ALLOWED = 1_000;

export function emailWorkerOptions(config: Config): Partial<WorkerOptions> {
  const k = sliceSize(config.emailRatePerSecond);
  return {
    limiter: { max: 1, duration: Math.ceil((1000 * k) / config.emailRatePerSecond) },
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: STALLS_ALLOWED,
  };
}

/**
 * One slice of one workspace, then the next slice of the same workspace goes to the back of the
 * queue, behind the other workspaces' jobs: round-robin.
 */
export const drain: Processor<{ workspaceId: string }> = async (job, ctx, log) => {
  const { workspaceId } = job.data;
  const result = await drainSlice(
    {
      db: ctx.db,
      mailer: ctx.mailer,
      config: ctx.config,
      logger: log,
      shouldStop: () => ctx.shuttingDown(),
      // One message per pooled SMTP connection: a server 100 ms away still takes SMTP_MAX_CONNECTIONS × 10 a second.
      concurrency: ctx.config.smtpMaxConnections,
    },
    workspaceId,
    sliceSize(ctx.config.emailRatePerSecond),
  );
  // Throws on a Redis failure: the retry sends the next slice and chains again. Rows another drain holds
  // are looked at again when their lease would run out: that drain may have died with them.
  if (result.more || result.retryInMs !== undefined)
    await ctx.queues.enqueue(
      'email',
      'drain',
      { workspaceId },
      {
        jobId: nextDrainJobId(job.id, workspaceId),
        ...(result.more ? {} : { delay: result.retryInMs! + LEASE_MARGIN_MS }),
      },
    );
  return result;
};
