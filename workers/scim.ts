import { enqueueDrain } from '../src/queues/drain.js';
import type { JobMap } from '../src/queues/jobs.js';
import { abandonBulkRequest, runBulkRequest } from '../src/scim/bulk/runner.js';
import type { Processor } from './context.js';

/**
 * A SCIM Bulk request (jobId bulk-<requestId>): its operations run through the provisioning engine in
 * batches, results recorded with each batch. A re-run (retry, stalled job, the sweeper) continues where
 * the last one stopped. When the last attempt fails, the operations not yet run answer 500, so the
 * caller waiting on the request gets an answer.
 */
export const bulk: Processor<JobMap['scim']['bulk']> = async (job, ctx, log) => {
  const { workspaceId, requestId } = job.data;
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
