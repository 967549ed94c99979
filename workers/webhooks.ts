import type { WorkerOptions } from 'bullmq';
import type { Config } from '../src/config.js';
import type { JobMap } from '../src/queues/jobs.js';
import { enqueueDeliver, enqueueFanout } from '../src/queues/webhooks.js';
import { deliverRun } from '../src/webhooks/deliver.service.js';
import { fanOut } from '../src/webhooks/fanout.service.js';
import type { Processor } from './context.js';

/** As good as unlimited: a stall is a worker that died; a re-run is harmless (state is in Postgres). */
const STALLS_ALLOWED = 1_000;

/**
 * Webhook runs are network-bound: WEBHOOK_CONCURRENCY endpoints at once per process, each with a few
 * requests in flight. A run whose worker died stays active, holding its chain, until BullMQ sees its
 * lock expire: a lock of 15 s and a stall check every 5 s hand the chain on within about 20 s.
 */
export function webhookWorkerOptions(config: Config): Partial<WorkerOptions> {
  return {
    concurrency: config.webhookConcurrency,
    lockDuration: 15_000,
    stalledInterval: 5_000,
    maxStalledCount: STALLS_ALLOWED,
  };
}

/** New events become deliveries; endpoints that got some run next; a longer backlog chains on. */
export const fanout: Processor<JobMap['webhooks']['fanout']> = async (job, ctx) => {
  const { workspaceId } = job.data;
  const result = await fanOut({ db: ctx.db, feed: ctx.webhooks.feed }, workspaceId);
  for (const endpointId of result.endpoints) await enqueueDeliver(ctx.queues, workspaceId, endpointId);
  if (result.more) await enqueueFanout(ctx.queues, workspaceId);
  return result;
};

/** One run of one endpoint's due deliveries; while more are due, the next run waits behind the others. */
export const deliver: Processor<JobMap['webhooks']['deliver']> = async (job, ctx, log) => {
  const { workspaceId, endpointId } = job.data;
  const result = await deliverRun(
    {
      db: ctx.db,
      feed: ctx.webhooks.feed,
      policy: ctx.webhooks.policy,
      allowPrivateNetworks: ctx.config.webhookAllowPrivateNetworks,
      logger: log,
      shouldStop: () => ctx.shuttingDown(),
    },
    workspaceId,
    endpointId,
  );
  if (result.more) await enqueueDeliver(ctx.queues, workspaceId, endpointId);
  return result;
};
