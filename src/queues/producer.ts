import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_OPTIONS, QUEUE_NAMES, type JobName, type JobPayload, type QueueName } from './jobs.js';

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

/** A queue's errors are logged at most once in this window, with the count of those left unlogged. */
export const QUEUE_ERROR_LOG_INTERVAL_MS = 10_000;

/** Logs a queue's errors (a Redis outage emits one per reconnect attempt) at most once per interval. */
export function queueErrorLogger(
  log: EnqueueLogger,
  queue: string,
  intervalMs = QUEUE_ERROR_LOG_INTERVAL_MS,
  now: () => number = Date.now,
): (error: Error) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (error) => {
    if (now() - last < intervalMs) {
      suppressed += 1;
      return;
    }
    last = now();
    log.warn({ err: error, queue, suppressed }, 'queue error (enqueues fail until Redis answers)');
    suppressed = 0;
  };
}

/** One child job of a flow: its payload and what is its own (jobId, parent, priority). */
export interface ChildJob<Q extends QueueName, N extends JobName<Q>> {
  data: JobPayload<Q, N>;
  opts: JobsOptions;
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
    private readonly log: EnqueueLogger = { warn: () => {} },
  ) {}

  queue(name: QueueName): Queue {
    if (!QUEUE_NAMES.includes(name)) throw new Error(`unknown queue ${name}`);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      // An enqueue that hits the error fails on its own; the log says why, without a line per reconnect.
      queue.on('error', queueErrorLogger(this.log, name));
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
    const job = await withTimeout(
      this.queue(queue).add(name, data, { ...JOB_OPTIONS[queue][name], ...opts }),
      ENQUEUE_TIMEOUT_MS,
      'enqueue',
    );
    return job.id;
  }

  /** Adds child jobs of one name in one round trip (a flow's fan-out), each with the job map's options. */
  async enqueueChildren<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    children: ChildJob<Q, N>[],
  ): Promise<void> {
    await this.queue(queue).addBulk(
      children.map((child) => ({
        name,
        data: child.data,
        opts: { ...JOB_OPTIONS[queue][name], ...child.opts },
      })),
    );
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
