import type { Caller } from '../auth/tokens.service.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Scope } from '../db/tables.js';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Queues } from '../queues/producer.js';

export interface RouteAccess {
  method: string;
  url: string;
  access: 'public' | 'operator' | 'any-scope' | Scope;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Db;
    queues: Queues;
    /** The API's fail-fast Redis connection (producers, rate-limit counters). */
    redis: Redis;
    /** Pings Redis; false when it does not answer. */
    redisReady(): Promise<boolean>;
    /** The Prometheus registry /metrics serves: this process's counters and the queue depth. */
    metrics: Registry;
    /** Every route and the access it declared, as the auth plugin checked them at registration. */
    accessTable: RouteAccess[];
  }
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a workspace token needs for this route. */
    scope?: Scope;
    /** The route takes the OPERATOR_TOKEN, never a workspace token. */
    operator?: boolean;
    /** The route needs no token at all. */
    public?: boolean;
    /** Any valid workspace token opens the route, whatever its scopes (what the token itself may see). */
    anyScope?: boolean;
  }
}
