import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../lib/errors.js';

const RETRY_AFTER_OVERLOADED = 10;

/**
 * Overload answers instead of falling over: 503 with Retry-After while the event loop lags (the process
 * is saturated), and 429 with Retry-After past RATE_LIMIT_PER_MINUTE requests per token. The counters
 * live in Redis so every API process shares them; a Redis that is down lets requests through (Redis
 * only carries work, it must not stop the API). Errors take the JSON or SCIM envelope as any other.
 */
export default fp(
  async function overload(app: FastifyInstance) {
    const { maxEventLoopDelayMs, rateLimitPerMinute, queuePrefix } = app.config;
    if (maxEventLoopDelayMs > 0) {
      await app.register(underPressure, {
        maxEventLoopDelay: maxEventLoopDelayMs,
        retryAfter: RETRY_AFTER_OVERLOADED,
        pressureHandler: async () => {
          throw new AppError(
            503,
            'overloaded',
            `The service is busy; retry in ${RETRY_AFTER_OVERLOADED} seconds.`,
            {},
            { 'retry-after': String(RETRY_AFTER_OVERLOADED) },
          );
        },
      });
    }
    if (rateLimitPerMinute > 0) {
      await app.register(rateLimit, {
        global: true,
        max: rateLimitPerMinute,
        timeWindow: 60_000,
        redis: app.redis,
        nameSpace: `${queuePrefix}-rate-`,
        skipOnError: true,
        // The bucket of a token is its hash: the public prefix alone must not let anyone spend it.
        keyGenerator: (request: FastifyRequest) => {
          const auth = request.headers.authorization;
          return auth ? createHash('sha256').update(auth).digest('base64url') : request.ip;
        },
        allowList: (request: FastifyRequest) => request.url === '/healthz' || request.url === '/readyz',
        errorResponseBuilder: (_request, context) =>
          new AppError(
            429,
            'rate_limited',
            `More than ${context.max} requests a minute with this token; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} seconds.`,
            { limit: context.max },
            { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
          ),
      });
    }
  },
  { name: 'overload', dependencies: ['queues', 'errors'] },
);
