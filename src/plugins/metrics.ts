import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge, Registry } from 'prom-client';
import { httpRequests, registry, scimRequests } from '../lib/metrics.js';
import { withTimeout } from '../queues/producer.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Prometheus registry /metrics serves: this process's counters and the queue depth. */
    metrics: Registry;
  }
}

const QUEUE_COUNTS_TIMEOUT_MS = 1_000;

type Counts = Record<string, Record<string, number>>;

/**
 * Counts every answer (SCIM ones by status too) in memory, and decorates `metrics` with the registry
 * that /metrics serves: the process's counters plus the queue depth, which is read from Redis when
 * scraped (one getJobCounts per queue, within a second; `loopit_redis_up` says whether it answered).
 */
export default fp(
  async function metrics(app: FastifyInstance) {
    const local = new Registry();
    let inflight: Promise<Counts | undefined> | undefined;
    // One Redis read per scrape, shared by the two gauges that need it.
    const readCounts = (): Promise<Counts | undefined> =>
      (inflight ??= withTimeout(app.queues.counts(), QUEUE_COUNTS_TIMEOUT_MS, 'queue counts')
        .catch(() => undefined)
        .finally(() => {
          inflight = undefined;
        }));

    new Gauge({
      name: 'loopit_queue_jobs',
      help: 'Jobs per BullMQ queue and state, read from Redis at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers: [local],
      async collect() {
        this.reset();
        const counts = await readCounts();
        for (const [queue, states] of Object.entries(counts ?? {})) {
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        }
      },
    });
    new Gauge({
      name: 'loopit_redis_up',
      help: '1 when Redis answered the queue-depth read of this scrape, else 0.',
      registers: [local],
      async collect() {
        this.set((await readCounts()) ? 1 : 0);
      },
    });
    app.decorate('metrics', Registry.merge([registry, local]));

    app.addHook('onResponse', async (request, reply) => {
      const status = String(reply.statusCode);
      const route = request.routeOptions.url ?? 'unmatched';
      httpRequests.inc({ method: request.method, route, status });
      if (request.url.startsWith('/scim/')) scimRequests.inc({ method: request.method, status });
    });
  },
  { name: 'metrics', dependencies: ['queues'] },
);
