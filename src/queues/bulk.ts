import type { JobsOptions } from 'bullmq';
import type { EnqueueLogger, Queues } from './producer.js';

/** BullMQ refuses ':' in ids; one job per SCIM Bulk request. */
export const bulkJobId = (requestId: string): string => `bulk-${requestId}`;

const options = (requestId: string): JobsOptions => ({ jobId: bulkJobId(requestId) });

/** Enqueues a staged Bulk request. Never throws: the request is in Postgres and the sweeper enqueues it. */
export function enqueueBulk(
  queues: Queues,
  log: EnqueueLogger,
  workspaceId: string,
  requestId: string,
): Promise<boolean> {
  return queues.tryEnqueue(log, 'scim', 'bulk', { workspaceId, requestId }, options(requestId));
}

const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * The sweeper's enqueue: makes sure an unfinished Bulk request has a job that will run. A finished job
 * kept under the id (a run that gave up, or a lost update) would make the add a no-op, so it is removed
 * first. Returns false when a live job already exists. Throws on Redis errors.
 */
export async function ensureBulk(queues: Queues, workspaceId: string, requestId: string): Promise<boolean> {
  await queues.ready();
  const queue = queues.queue('scim');
  const state = await queue.getJobState(bulkJobId(requestId));
  if (LIVE.has(state)) return false;
  if (state !== 'unknown') await queue.remove(bulkJobId(requestId));
  await queues.enqueue('scim', 'bulk', { workspaceId, requestId }, options(requestId));
  return true;
}
