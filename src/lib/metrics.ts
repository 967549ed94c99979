import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. Counters are updated in memory where the work happens (the HTTP
 * hooks, the workers' job events), so a scrape costs no database query; queue depth is read from Redis
 * when scraped (see src/plugins/metrics.ts). Metrics are per process: an API process reports its
 * requests, a worker process its batches and e-mails, ROLE=all both.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const importRowsProcessed = new Counter({
  name: 'loopit_import_rows_processed_total',
  help: 'Import rows (dry runs included) run through the provisioning engine by batch jobs.',
  registers: [registry],
});

export const importBatchSeconds = new Histogram({
  name: 'loopit_import_batch_duration_seconds',
  help: 'Wall time of one import batch job (up to BATCH_SIZE rows in one transaction).',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'loopit_jobs_total',
  help: 'BullMQ jobs this process finished, by queue, job name and result (completed or failed).',
  labelNames: ['queue', 'name', 'result'] as const,
  registers: [registry],
});

export const emailsSent = new Counter({
  name: 'loopit_emails_sent_total',
  help: 'Invitation e-mails the mail server accepted.',
  registers: [registry],
});

export const emailsFailed = new Counter({
  name: 'loopit_emails_failed_total',
  help: 'Invitation e-mails given up (refused permanently, or transiently too often).',
  registers: [registry],
});

export const scimRequests = new Counter({
  name: 'loopit_scim_requests_total',
  help: 'SCIM requests answered, by method and status code.',
  labelNames: ['method', 'status'] as const,
  registers: [registry],
});

export const httpRequests = new Counter({
  name: 'loopit_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const webhookAttempts = new Counter({
  name: 'loopit_webhook_attempts_total',
  help: 'Webhook delivery attempts, by result: succeeded (a 2xx answer) or failed (any other answer, a timeout, a refused connection).',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const webhookDeliveriesFailed = new Counter({
  name: 'loopit_webhook_deliveries_failed_total',
  help: 'Webhook deliveries given up after their last attempt (status failed; they can be retried by hand).',
  registers: [registry],
});
