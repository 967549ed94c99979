import { WaitingChildrenError } from 'bullmq';
import {
  batchRanges,
  countPending,
  finishRun,
  runnableImport,
  startRun,
} from '../src/imports/lifecycle.service.js';
import { runImportBatch } from '../src/imports/run.service.js';
import { summaryEmail, summaryRecipient } from '../src/imports/summary.js';
import { convertWorkbook } from '../src/imports/workbook.service.js';
import { enqueueDrain } from '../src/queues/drain.js';
import type { JobMap } from '../src/queues/jobs.js';
import type { Processor } from './context.js';

/** BullMQ's largest priority; a batch's priority is its position in its import (1 first). */
const MAX_PRIORITY = 2_097_151;

/**
 * The import job (imp-<id>-<attempt>). Step 'prepare' converts an uploaded workbook into staged rows
 * (a CSV was staged by the upload), marks the import processing, marks in-file
 * duplicates, checks sync safety and stages deactivations, then adds one child job per batch of
 * BATCH_SIZE pending rows and waits for them (a BullMQ flow), so that any number of workers share one
 * file. Children are prioritised by their position in their import: the first batches of a ten-row
 * import that arrives later run before batch 500 of a million-row one, so no import starves another.
 * Step 'finish' completes the import when every child is done. Every step is idempotent.
 */
export const run: Processor<JobMap['imports']['run']> = async (job, ctx, log, token) => {
  const { workspaceId, importId } = job.data;
  if ((job.data.step ?? 'prepare') === 'prepare') {
    const converted = await convertWorkbook(ctx.db, ctx.config, workspaceId, importId);
    if (converted.kind === 'failed') {
      log.info({ importId, error: converted.error }, 'workbook could not be converted');
      return { failed: converted.error };
    }
    if (converted.kind === 'converted') log.info({ importId, rows: converted.rows }, 'workbook converted');
    const started = await startRun(ctx.db, workspaceId, importId);
    if (started.kind === 'skip') return { skipped: started.reason };
    if (started.kind === 'failed') return { failed: started.imp.error };
    const ranges = await batchRanges(ctx.db, workspaceId, importId, ctx.config.batchSize);
    await job.updateData({ ...job.data, step: 'finish' });
    if (ranges.length > 0) {
      const parent = { id: job.id!, queue: job.queueQualifiedName };
      await ctx.queues.enqueueChildren(
        'imports',
        'batch',
        ranges.map((range, i) => ({
          data: { workspaceId, importId, ...range },
          opts: { jobId: `${job.id}-b${i}`, parent, priority: Math.min(i + 1, MAX_PRIORITY) },
        })),
      );
      log.info({ importId, batches: ranges.length }, 'import fanned out');
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    }
  }
  const state = await runnableImport(ctx.db, workspaceId, importId);
  if (!state) return { skipped: 'import is no longer processing' };
  if (!state.cancel && (await countPending(ctx.db, workspaceId, importId)) > 0) {
    throw new Error('rows are still pending after every batch ended; the import runs again');
  }
  const done = await finishRun(ctx.db, workspaceId, importId, state.cancel);
  log.info(
    { importId, status: done.status, processed: done.processed_rows, failed: done.failed },
    'import finished',
  );
  const to = await summaryRecipient(ctx.db, done).catch((err: unknown) => {
    log.warn({ err, importId }, 'import summary e-mail not sent: its recipient could not be checked');
    return undefined;
  });
  if (to) {
    try {
      await ctx.mailer.send({ ...summaryEmail(done, ctx.config.publicUrl), to, from: ctx.config.mailFrom });
    } catch (err) {
      log.warn({ err, importId }, 'import summary e-mail failed');
    }
  }
  return { status: done.status };
};

/** One batch: the pending rows of its idx range, one transaction per BATCH_SIZE rows; skipped once cancelled. */
export const batch: Processor<JobMap['imports']['batch']> = async (job, ctx, log) => {
  const { workspaceId, importId, fromIdx, toIdx } = job.data;
  const state = await runnableImport(ctx.db, workspaceId, importId);
  if (!state) return { skipped: 'import is no longer processing' };
  if (state.cancel) return { skipped: 'cancelled' };
  let after = fromIdx - 1;
  let processed = 0;
  for (;;) {
    const result = await runImportBatch(ctx.db, state.imp, after, ctx.config.batchSize, log, toIdx);
    if (result.count === 0) break;
    after = result.lastIdx;
    processed += result.count;
    await job.updateProgress({ processed, fromIdx, toIdx });
    if (result.invited > 0 && !state.imp.dry_run) await enqueueDrain(ctx.queues, log, workspaceId);
    if (result.cancel) break;
  }
  return { processed };
};
