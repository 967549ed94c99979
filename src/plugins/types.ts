import type { Caller } from '../auth/tokens.service.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Scope } from '../db/tables.js';
import type { Queues } from '../queues/producer.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Db;
    queues: Queues;
    /** Pings Redis; false when it does not answer. */
    redisReady(): Promise<boolean>;
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
  }
}
