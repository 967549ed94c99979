import { UnrecoverableError, Worker, type Job, type WorkerOptions as BullWorkerOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { Db } from '../src/db/index.js';
import { createMailer } from '../src/email/transport.js';
import { useInvitationSecrets } from '../src/provisioning/invitation-tokens.js';
import { producerConnection, workerConnection } from '../src/queues/connection.js';
import { QUEUE_NAMES, type QueueName } from '../src/queues/jobs.js';
import { Queues } from '../src/queues/producer.js';
import type { Processor, WorkerContext } from './context.js';
import { emailWorkerOptions } from './email.js';
import { observeJobs } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { assertProcessors, processors } from './processors.js';
import { scimWorkerOptions } from './scim.js';
import { Sweeper, type SweepTask } from './sweeper.js';
import { defaultSweepTasks } from './sweep-tasks.js';
import { closeAgents } from '../src/webhooks/sender.js';
import { eventFeed, type EventFeed } from '../src/webhooks/event-feed.js';
import { DEFAULT_POLICY, type DeliveryPolicy } from '../src/webhooks/schedule.js';
import { startWebhookWakeups } from './webhook-wakeups.js';
import { webhookWorkerOptions } from './webhooks.js';

/** Worker options that only some queues need, such as the e-mail rate limit. */
const queueWorkerOptions: Partial<Record<QueueName, (config: Config) => Partial<BullWorkerOptions>>> = {
  email: emailWorkerOptions,
  // A killed worker's import is picked up again within about half a minute (lock renewed every 10 s).
  imports: () => ({ lockDuration: 20_000, stalledInterval: 10_000 }),
  scim: scimWorkerOptions,
  webhooks: webhookWorkerOptions,
};

/** How often each worker process looks for webhook deliveries that have come due. */
export const WEBHOOK_TICK_MS = 1_000;

export interface WorkerHandle {
  context: WorkerContext;
  close(): Promise<void>;
}

export interface WorkerOptions {
  config: Config;
  db: Db;
  logger: Logger;
  /** Replaces the processor table (tests); still checked against the job map. */
  processors?: Record<string, Record<string, unknown>>;
  /** Replaces the default sweep tasks (the outbox). */
  sweepTasks?: SweepTask[];
  /**
   * Webhooks, for tests: another events feed, a faster retry schedule and timeout, a faster tick. The
   * service always runs with the production schedule (src/webhooks/schedule.ts).
   */
  webhooks?: { feed?: EventFeed; policy?: Partial<DeliveryPolicy>; tickMs?: number };
}

/** Starts one BullMQ worker per queue in this process, and the sweeper. */
export async function startWorkers(options: WorkerOptions): Promise<WorkerHandle> {
  const table = options.processors ?? processors;
  assertProcessors(table);
  const { config, db, logger } = options;
  useInvitationSecrets(config);
  const producer = producerConnection(config.redisUrl);
  producer.on('error', (err) => logger.debug({ err }, 'redis producer connection error'));
  const connection = workerConnection(config.redisUrl);
  connection.on('error', (err) => logger.warn({ err }, 'redis worker connection error'));
  const queues = new Queues(producer, config.queuePrefix, logger);
  let stopping = false;
  const sweepLogger = logger.child({ component: 'sweeper' });
  const sweeper = new Sweeper(
    options.sweepTasks ??
      defaultSweepTasks(
        { db, queues, logger: sweepLogger },
        config.importRetentionDays,
        config.auditRetentionDays,
      ),
    sweepLogger,
  );
  const mailer = createMailer(config, logger.child({ component: 'mailer' }));
  const context: WorkerContext = {
    config,
    db,
    queues,
    logger,
    sweeper,
    mailer,
    webhooks: {
      feed: options.webhooks?.feed ?? eventFeed,
      policy: { ...DEFAULT_POLICY, ...options.webhooks?.policy },
    },
    shuttingDown: () => stopping,
  };

  const workers = QUEUE_NAMES.map((queue) => {
    const handlers = table[queue] as Record<string, Processor<unknown>>;
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        const handler = handlers[job.name];
        if (!handler) throw new UnrecoverableError(`no processor for ${queue}/${job.name}`);
        const log = logger.child({ queue, job: job.name, jobId: job.id });
        return handler(job, context, log, token);
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: config.workerConcurrency,
        autorun: true,
        ...queueWorkerOptions[queue]?.(config),
      },
    );
    worker.on('error', (err) => logger.error({ err, queue }, 'worker error'));
    observeJobs(queue, worker);
    worker.on('failed', (job, err) =>
      logger.warn({ err, queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade }, 'job failed'),
    );
    return worker;
  });

  // API processes serve /metrics on their HTTP port; a worker-only process needs its own.
  const metricsServer =
    config.role === 'worker' && config.metricsPort
      ? await startMetricsServer(config.host, config.metricsPort, config.operatorToken, logger)
      : undefined;

  await sweeper.runOnce();
  sweeper.start(config.sweepIntervalSeconds * 1000);
  const wakeups = startWebhookWakeups({
    databaseUrl: config.databaseUrl,
    db,
    queues,
    logger: logger.child({ component: 'webhooks' }),
    tickMs: options.webhooks?.tickMs ?? WEBHOOK_TICK_MS,
  });
  logger.info({ queues: QUEUE_NAMES, concurrency: config.workerConcurrency }, 'workers started');

  return {
    context,
    async close() {
      stopping = true;
      sweeper.stop();
      await wakeups.close();
      await metricsServer?.close();
      await Promise.all(workers.map((w) => w.close()));
      closeAgents();
      await queues.close();
      mailer.close();
      producer.disconnect();
      connection.disconnect();
    },
  };
}
