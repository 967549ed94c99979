import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { Db } from '../src/db/index.js';
import type { Mailer } from '../src/email/transport.js';
import type { JobMap, QueueName } from '../src/queues/jobs.js';
import type { Queues } from '../src/queues/producer.js';
import type { EventFeed } from '../src/webhooks/event-feed.js';
import type { DeliveryPolicy } from '../src/webhooks/schedule.js';
import type { Sweeper } from './sweeper.js';

export interface WorkerContext {
  config: Config;
  db: Db;
  queues: Queues;
  logger: Logger;
  sweeper: Sweeper;
  /** Invitation e-mail: SMTP when SMTP_URL is set, else the log. */
  mailer: Mailer;
  /** Webhooks: the events feed they read, and how deliveries are paced (the schedule, the timeout). */
  webhooks: { feed: EventFeed; policy: DeliveryPolicy };
  /** True once shutdown began: long jobs stop at the next batch boundary. */
  shuttingDown(): boolean;
}

/** `token` is the lock token of the job, for steps such as moving to waiting-children. */
export type Processor<P> = (job: Job<P>, ctx: WorkerContext, log: Logger, token?: string) => Promise<unknown>;

/** A processor for every job of every queue: the compiler enforces it, assertProcessors re-checks at start. */
export type Processors = { [Q in QueueName]: { [N in keyof JobMap[Q]]: Processor<JobMap[Q][N]> } };
