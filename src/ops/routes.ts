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
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
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
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            checks: Type.Object({ postgres: Check, redis: Check }),
          }),
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
        response: {
          200: Type.Object({
            queues: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())),
          }),
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
