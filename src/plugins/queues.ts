import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { producerConnection } from '../queues/connection.js';
import { Queues, withTimeout } from '../queues/producer.js';

declare module 'fastify' {
  interface FastifyInstance {
    queues: Queues;
    /** The API's fail-fast Redis connection (producers, rate-limit counters). */
    redis: Redis;
    /** Pings Redis; false when it does not answer. */
    redisReady(): Promise<boolean>;
  }
}

/** Decorates `queues` (producers on a fail-fast connection) and `redisReady`; closes both on close. */
export default fp(
  async function queues(app: FastifyInstance) {
    const connection: Redis = producerConnection(app.config.redisUrl);
    connection.on('error', (err) => app.log.debug({ err }, 'redis connection error'));
    const instance = new Queues(connection, app.config.queuePrefix, app.log);
    app.decorate('queues', instance);
    app.decorate('redis', connection);
    app.decorate('redisReady', async () => {
      try {
        await instance.ready();
        return (await withTimeout(connection.ping(), 1_000, 'redis ping')) === 'PONG';
      } catch {
        return false;
      }
    });
    app.addHook('onClose', async () => {
      await instance.close();
      connection.disconnect();
    });
  },
  { name: 'queues' },
);
