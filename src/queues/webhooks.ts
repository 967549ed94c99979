import type { JobsOptions } from 'bullmq';
import type { EnqueueLogger, Queues } from './producer.js';

/**
 * Webhook jobs form one chain per workspace (fan-out) and one per endpoint (delivery). A chain's key is
 * a BullMQ deduplication id with keepLastIfActive: while a run is waiting, another add is a no-op;
 * while one is active, the add is kept and becomes the next run when it ends, at the back of the queue.
 * So a chain never runs twice at once, a wake-up during a run is never lost, and chains take turns,
 * which keeps one workspace's backlog (or one slow endpoint) from delaying the others. Attempts and
 * retention are the job map's (JOB_OPTIONS).
 */
const chain = (id: string): JobsOptions => ({ deduplication: { id, keepLastIfActive: true } });

export const fanoutChain = (workspaceId: string): string => `wh-fanout-${workspaceId}`;
export const deliverChain = (endpointId: string): string => `wh-deliver-${endpointId}`;

/** Throws on a Redis failure (workers: the job retries; the sweeper: it runs again). */
export async function enqueueFanout(queues: Queues, workspaceId: string): Promise<void> {
  await queues.enqueue('webhooks', 'fanout', { workspaceId }, chain(fanoutChain(workspaceId)));
}

export async function enqueueDeliver(queues: Queues, workspaceId: string, endpointId: string): Promise<void> {
  await queues.enqueue('webhooks', 'deliver', { workspaceId, endpointId }, chain(deliverChain(endpointId)));
}

/**
 * After a commit that made a delivery due (a test, a retry by hand, an endpoint enabled again). Never
 * throws: the endpoint's next_due_at is in Postgres, and the workers' tick enqueues it within a second.
 */
export function wakeEndpoint(
  queues: Queues,
  log: EnqueueLogger,
  workspaceId: string,
  endpointId: string,
): Promise<boolean> {
  return queues.tryEnqueue(
    log,
    'webhooks',
    'deliver',
    { workspaceId, endpointId },
    chain(deliverChain(endpointId)),
  );
}

export function wakeFanout(queues: Queues, log: EnqueueLogger, workspaceId: string): Promise<boolean> {
  return queues.tryEnqueue(log, 'webhooks', 'fanout', { workspaceId }, chain(fanoutChain(workspaceId)));
}
