import type { WorkerOptions } from 'bullmq';
import type { Config } from '../src/config.js';
import { drainSlice } from '../src/email/drain.service.js';
import { drainJobOptions, nextDrainJobId } from '../src/queues/drain.js';
import type { Processor } from './context.js';

/** Messages per drain job: K = max(1, floor(rate)); jobs are then spaced K / rate seconds apart. */
export const sliceSize = (ratePerSecond: number): number => Math.max(1, Math.floor(ratePerSecond));

/**
 * BullMQ's limiter is global to the queue (kept in Redis), so one job per K / rate seconds holds the
 * whole service to EMAIL_RATE_PER_SECOND however many worker processes run.
 * A drain job of a worker that died stays active, holding its id (so its workspace's chain waits),
 * until BullMQ sees its lock expire: a short lock brings it back within about 15 s. Running a drain
 * twice is harmless (rows are leased in Postgres), so a false stall costs nothing.
 */
export function emailWorkerOptions(config: Config): Partial<WorkerOptions> {
  const k = sliceSize(config.emailRatePerSecond);
  return {
    limiter: { max: 1, duration: Math.ceil((1000 * k) / config.emailRatePerSecond) },
    lockDuration: 10_000,
    stalledInterval: 5_000,
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
  // Throws on a Redis failure: the retry sends the next slice and chains again.
  if (result.more)
    await ctx.queues.enqueue(
      'email',
      'drain',
      { workspaceId },
      drainJobOptions(nextDrainJobId(job.id, workspaceId)),
    );
  return result;
};
