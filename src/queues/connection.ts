import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers fail fast: no offline queue, one retry per command, so a request is never held hostage by a
 * Redis that is down (what must not be lost is in Postgres first; the sweeper enqueues it later).
 */
export function producerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    lazyConnect: false,
  } satisfies RedisOptions);
}

/** Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: true });
}
