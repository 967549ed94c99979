import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../lib/errors.js';
import { errorResponses } from '../api/common.js';
import { postgresReady } from './health.service.js';

const Check = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      // Liveness stays 200 under load: a busy process is alive, and restarting it would lose its work.
      config: { public: true, pressureHandler: () => undefined },
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        description: '200 while the process runs, under load too.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { examples: [{ status: 'ok' }] }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: Postgres and Redis answer',
        description: '503 not_ready with the checks and Retry-After when Postgres or Redis does not answer.',
        response: {
          200: Type.Object(
            { status: Type.Literal('ready'), checks: Type.Object({ postgres: Check, redis: Check }) },
            { examples: [{ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } }] },
          ),
          ...errorResponses(503),
        },
      },
    },
    async () => {
      const [pgOk, redisOk] = await Promise.all([postgresReady(app.db), app.redisReady()]);
      const checks = {
        postgres: pgOk ? 'ok' : 'unavailable',
        redis: redisOk ? 'ok' : 'unavailable',
      } as const;
      if (!pgOk || !redisOk) {
        const down = [!pgOk && 'Postgres', !redisOk && 'Redis'].filter(Boolean).join(' and ');
        throw new AppError(
          503,
          'not_ready',
          `${down} did not answer; retry shortly.`,
          { checks },
          { 'retry-after': '5' },
        );
      }
      return { status: 'ready' as const, checks };
    },
  );

  app.get(
    '/admin/stats',
    {
      config: { operator: true },
      schema: {
        tags: ['operations'],
        summary: 'Job counts per queue (OPERATOR_TOKEN)',
        description:
          'Waiting, active, delayed, failed and completed jobs of each queue; 503 redis_unavailable when Redis does not answer.',
        response: {
          200: Type.Object(
            { queues: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())) },
            {
              examples: [
                {
                  queues: {
                    imports: {
                      waiting: 0,
                      active: 1,
                      delayed: 0,
                      failed: 0,
                      completed: 12,
                      paused: 0,
                      prioritized: 0,
                    },
                    email: {
                      waiting: 3,
                      active: 1,
                      delayed: 0,
                      failed: 0,
                      completed: 480,
                      paused: 0,
                      prioritized: 0,
                    },
                  },
                },
              ],
            },
          ),
          ...errorResponses(401, 503),
        },
      },
    },
    async () => {
      try {
        return { queues: await app.queues.counts() };
      } catch {
        throw new AppError(
          503,
          'redis_unavailable',
          'Redis did not answer; retry shortly.',
          {},
          { 'retry-after': '5' },
        );
      }
    },
  );
};

export default routes;
