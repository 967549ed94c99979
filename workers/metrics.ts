import type { Job, Worker } from 'bullmq';
import {
  emailsFailed,
  emailsSent,
  importBatchSeconds,
  importRowsProcessed,
  jobsFinished,
  webhookAttempts,
  webhookDeliveriesFailed,
} from '../src/lib/metrics.js';
import type { QueueName } from '../src/queues/jobs.js';

const count = (value: unknown): number => (typeof value === 'number' && value > 0 ? value : 0);

/**
 * Feeds the Prometheus counters from a worker's job events, in memory: rows per import batch and the
 * batch's wall time, e-mails per drain slice, and every job's result.
 */
export function observeJobs(queue: QueueName, worker: Worker): void {
  worker.on('completed', (job: Job, result: unknown) => {
    jobsFinished.inc({ queue, name: job.name, result: 'completed' });
    const out = (result ?? {}) as Record<string, unknown>;
    if (queue === 'imports' && job.name === 'batch') {
      importRowsProcessed.inc(count(out.processed));
      if (job.processedOn && job.finishedOn)
        importBatchSeconds.observe((job.finishedOn - job.processedOn) / 1000);
    }
    if (queue === 'email' && job.name === 'drain') {
      emailsSent.inc(count(out.sent));
      emailsFailed.inc(count(out.failed));
    }
    if (queue === 'webhooks' && job.name === 'deliver') {
      webhookAttempts.inc({ result: 'succeeded' }, count(out.succeeded));
      webhookAttempts.inc({ result: 'failed' }, count(out.failed));
      webhookDeliveriesFailed.inc(count(out.gaveUp));
    }
  });
  worker.on('failed', (job) => {
    if (job) jobsFinished.inc({ queue, name: job.name, result: 'failed' });
  });
}
