import type { EnqueueLogger, Queues } from './producer.js';

/**
 * E-mail drain jobs, one chain per workspace. A drain job sends one slice and, while more remain,
 * enqueues the next one at the back of the queue, so workspaces take turns (round-robin). The chain
 * alternates between two stable ids: the running job's own id cannot be reused (BullMQ ignores an add
 * whose id still exists), and stable ids make every other add (after a commit, by the sweeper)
 * collapse into the chain instead of starting a second one for the same workspace.
 */
export const drainJobId = (workspaceId: string): string => `drain-${workspaceId}`;
const alternateId = (workspaceId: string): string => `drain-${workspaceId}-b`;

/** The id of the job that follows `currentId` in its workspace's chain. */
export const nextDrainJobId = (currentId: string | undefined, workspaceId: string): string =>
  currentId === drainJobId(workspaceId) ? alternateId(workspaceId) : drainJobId(workspaceId);

/**
 * After a commit that queued invitations. Never throws: on a Redis failure the rows stay queued in
 * Postgres and the sweeper enqueues the drain within a minute.
 */
export function enqueueDrain(queues: Queues, log: EnqueueLogger, workspaceId: string): Promise<boolean> {
  return queues.tryEnqueue(log, 'email', 'drain', { workspaceId }, { jobId: drainJobId(workspaceId) });
}

const FINISHED = new Set(['completed', 'failed']);

/**
 * The sweeper's enqueue: makes sure a drain job for the workspace will run. A finished job kept under
 * the stable id (removeOnFail keeps failed ones) would make the add a no-op, so it is removed first.
 * A waiting, delayed or active job will run or chain on; an active one whose worker died is brought
 * back by BullMQ once its lock expires. Throws on Redis errors (the sweep runs again a minute later).
 */
export async function ensureDrain(queues: Queues, workspaceId: string): Promise<void> {
  await queues.ready();
  const queue = queues.queue('email');
  const jobId = drainJobId(workspaceId);
  for (const id of [jobId, alternateId(workspaceId)]) {
    const state = await queue.getJobState(id);
    if (FINISHED.has(state)) await queue.remove(id);
    else if (state !== 'unknown') return;
  }
  await queues.enqueue('email', 'drain', { workspaceId }, { jobId });
}
