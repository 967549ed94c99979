import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken } from '../auth/tokens.js';
import { authenticateRequest } from '../auth/tokens.service.js';
import { AppError } from '../lib/errors.js';

const RETRY_AFTER_OVERLOADED = 10;

/**
 * The bucket a request spends from: its token's identity once the token is found (the lookup is cached
 * and the auth hook reuses it), else the client address. So the header's spelling (`bearer`, tabs, two
 * spaces) cannot open a fresh bucket for a token, and headers that are no valid token (random values,
 * a forged secret behind a real prefix) spend the address's bucket, never one of their own.
 */
async function bucketOf(app: FastifyInstance, request: FastifyRequest): Promise<string> {
  const token = bearerToken(request.headers.authorization ?? '');
  if (token !== undefined) {
    try {
      return `token:${(await authenticateRequest(app.db, token, request)).tokenId}`;
    } catch {
      // an unknown token, or no database to ask: the address's bucket
    }
  }
  return `ip:${request.ip}`;
}

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
        global: false,
        max: rateLimitPerMinute,
        timeWindow: 60_000,
        redis: app.redis,
        nameSpace: `${queuePrefix}-rate-`,
        skipOnError: true,
        keyGenerator: (request: FastifyRequest) => bucketOf(app, request),
        allowList: (request: FastifyRequest) => request.url === '/healthz' || request.url === '/readyz',
        errorResponseBuilder: (_request, context) =>
          new AppError(
            429,
            'rate_limited',
            `More than ${context.max} requests a minute with this token (or from this address, without a valid token); retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} seconds.`,
            { limit: context.max },
            { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
          ),
      });
      // One app-level hook, ahead of the auth hook: a request refused 401 is counted too.
      app.addHook('onRequest', app.rateLimit());
    }
  },
  { name: 'overload', dependencies: ['queues', 'errors'] },
);
