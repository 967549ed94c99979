import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type JobName, type JobPayload, type QueueName } from './jobs.js';

export const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000, age: 24 * 3600 },
  removeOnFail: { count: 5_000, age: 7 * 24 * 3600 },
};

const ENQUEUE_TIMEOUT_MS = 2_000;
const FIRST_CONNECT_WAIT_MS = 1_000;

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface EnqueueLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The producer side of every queue, over one fail-fast connection. A BullMQ Queue is only built once
 * the connection is up: a Queue whose initialisation is still pending when it is closed emits its
 * connection error with no listener left (an unhandled rejection), which would take a Redis outage
 * into the API process.
 */
export class Queues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: Redis,
    readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    if (!QUEUE_NAMES.includes(name)) throw new Error(`unknown queue ${name}`);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix, defaultJobOptions });
      queue.on('error', () => {}); // connection errors surface on the enqueue that hits them
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds a job; a jobId makes the add idempotent while that job exists. Fails fast (within about two
   * seconds) when Redis is unreachable, instead of waiting for a reconnect.
   */
  async enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    data: JobPayload<Q, N>,
    opts: JobsOptions = {},
  ): Promise<string | undefined> {
    await this.ready();
    const job = await withTimeout(this.queue(queue).add(name, data, opts), ENQUEUE_TIMEOUT_MS, 'enqueue');
    return job.id;
  }

  /** Resolves when the connection is up; waits briefly for a first connect, never for a reconnect. */
  async ready(): Promise<void> {
    const status = this.connection.status;
    if (status === 'ready') return;
    if (status === 'wait' || status === 'connecting' || status === 'connect') {
      await withTimeout(
        new Promise<void>((resolve) => this.connection.once('ready', () => resolve())),
        FIRST_CONNECT_WAIT_MS,
        'redis connect',
      );
      return;
    }
    throw new Error(`redis is not connected (${status})`);
  }

  /** Like enqueue, but a Redis failure is logged and reported as false: the sweeper will enqueue it. */
  async tryEnqueue<Q extends QueueName, N extends JobName<Q>>(
    log: EnqueueLogger,
    queue: Q,
    name: N,
    data: JobPayload<Q, N>,
    opts: JobsOptions = {},
  ): Promise<boolean> {
    try {
      await this.enqueue(queue, name, data, opts);
      return true;
    } catch (error) {
      log.warn({ err: error, queue, job: name }, 'enqueue failed; the sweeper will retry');
      return false;
    }
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    await this.ready();
    for (const name of QUEUE_NAMES) {
      out[name] = await this.queue(name).getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'paused',
        'prioritized',
      );
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
