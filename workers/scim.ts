import type { WorkerOptions } from 'bullmq';
import { enqueueDrain } from '../src/queues/drain.js';
import type { JobMap } from '../src/queues/jobs.js';
import { abandonBulkRequest, runBulkRequest } from '../src/scim/bulk/runner.js';
import type { Processor } from './context.js';

/** As good as unlimited: a stall is a worker that died, and the run continues where it stopped. */
const STALLS_ALLOWED = 1_000;
/** A request whose worker died this many times is given up: it is what kills them. */
export const BULK_MAX_STALLS = 10;

/**
 * A Bulk job whose worker died stays active until BullMQ sees its lock expire: a lock of 15 s (renewed
 * every 7.5 s while the worker lives) and a stall check every 5 s give it to another worker, or the
 * restarted one, within about 20 s, while the caller still waits. Running a request twice is harmless
 * (each result commits with its write, and a write whose result another run recorded rolls back), so
 * a false stall costs nothing, and a stall never fails the job: BullMQ's default fails it at the
 * second and leaves the request to the sweeper. The job counts its own stalls instead (BULK_MAX_STALLS).
 */
export function scimWorkerOptions(): Partial<WorkerOptions> {
  return { lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: STALLS_ALLOWED };
}

/**
 * A SCIM Bulk request (jobId bulk-<requestId>): its operations run through the provisioning engine in
 * batches, results recorded with each batch. A re-run (retry, stalled job, the sweeper) continues where
 * the last one stopped. When the last attempt fails, or the request's workers died BULK_MAX_STALLS
 * times, the operations not yet run answer 500, so the caller waiting on the request gets an answer.
 */
export const bulk: Processor<JobMap['scim']['bulk']> = async (job, ctx, log) => {
  const { workspaceId, requestId } = job.data;
  if (job.stalledCounter >= BULK_MAX_STALLS) {
    log.error(
      { requestId, stalls: job.stalledCounter },
      'scim bulk request given up: its workers keep dying',
    );
    await abandonBulkRequest(ctx.db, workspaceId, requestId);
    return { abandoned: true };
  }
  try {
    const outcome = await runBulkRequest(
      {
        db: ctx.db,
        publicUrl: ctx.config.publicUrl,
        batchSize: ctx.config.batchSize,
        log,
        shouldStop: () => ctx.shuttingDown(),
      },
      workspaceId,
      requestId,
    );
    if (outcome.invited > 0) await enqueueDrain(ctx.queues, log, workspaceId);
    log.info({ requestId, ...outcome }, 'scim bulk request done');
    return outcome;
  } catch (error) {
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1) && !ctx.shuttingDown()) {
      log.error({ err: error, requestId }, 'scim bulk request failed for good');
      await abandonBulkRequest(ctx.db, workspaceId, requestId);
    }
    throw error;
  }
};
