import { finishRun, startRun } from '../src/imports/lifecycle.service.js';
import { summaryEmail } from '../src/imports/summary.js';
import { runImportBatch } from '../src/imports/run.service.js';
import { enqueueDrain } from '../src/queues/drain.js';
import type { JobMap } from '../src/queues/jobs.js';
import type { Processor } from './context.js';

/**
 * Runs an import: prepares it (duplicates, counters, sync safety), then its pending rows in batches of
 * BATCH_SIZE, each one transaction, checking cancel and shutdown between batches. State is all in
 * Postgres, so a second run of the same job (BullMQ is at-least-once) continues where the first stopped.
 */
export const run: Processor<JobMap['imports']['run']> = async (job, ctx, log) => {
  const { workspaceId, importId } = job.data;
  const started = await startRun(ctx.db, workspaceId, importId);
  if (started.kind === 'skip') return { skipped: started.reason };
  if (started.kind === 'failed') return { failed: started.imp.error };
  const imp = started.imp;
  let lastIdx = 0;
  let cancelled = false;
  let invited = 0;
  for (;;) {
    const batch = await runImportBatch(ctx.db, imp, lastIdx, ctx.config.batchSize, log);
    if (batch.count === 0) break;
    lastIdx = batch.lastIdx;
    invited += batch.invited;
    await job.updateProgress({ lastIdx, totalRows: imp.total_rows });
    if (invited > 0 && !imp.dry_run) {
      await enqueueDrain(ctx.queues, log, workspaceId);
      invited = 0;
    }
    if (batch.cancel) {
      cancelled = true;
      break;
    }
    if (ctx.shuttingDown()) throw new Error('worker shutting down; the import continues on the next attempt');
  }
  const done = await finishRun(ctx.db, workspaceId, importId, cancelled);
  log.info(
    { importId, status: done.status, processed: done.processed_rows, failed: done.failed },
    'import finished',
  );
  if (done.notify_email) {
    try {
      await ctx.mailer.send({
        ...summaryEmail(done, ctx.config.publicUrl),
        to: done.notify_email,
        from: ctx.config.mailFrom,
      });
    } catch (err) {
      log.warn({ err, importId }, 'import summary e-mail failed');
    }
  }
  return { status: done.status };
};
