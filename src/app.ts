import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import authPlugin from './auth/plugin.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import metricsRoutes from './ops/metrics.routes.js';
import queuesBoard from './ops/queues-board.routes.js';
import opsRoutes from './ops/routes.js';
import dbPlugin from './plugins/db.js';
import errorsPlugin from './plugins/errors.js';
import importRoutes from './imports/imports.routes.js';
import scimPlugin from './scim/plugin.js';
import openapiPlugin from './plugins/openapi.js';
import metricsPlugin from './plugins/metrics.js';
import overloadPlugin from './plugins/overload.js';
import queuesPlugin from './plugins/queues.js';
import './plugins/types.js';
import locationRoutes from './users/locations.routes.js';
import roleRoutes from './users/roles.routes.js';
import invitationRoutes from './users/invitations.routes.js';
import settingsRoutes from './users/settings.routes.js';
import userRoutes from './users/users.routes.js';
import webRoutes from './web/web.routes.js';

export interface BuildOptions {
  config: Config;
  /** Use this database handle instead of opening a pool (tests); the caller closes it. */
  db?: Db;
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Query parameters that carry secrets (the invitation link's token) are blanked in logged URLs.
const SECRET_QUERY = /([?&](?:token|access_token)=)[^&#]*/gi;
export const redactUrl = (url: string): string => url.replace(SECRET_QUERY, '$1[redacted]');

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    serializers: {
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'token', '*.token', '*.password', 'smtpUrl'],
      censor: '[redacted]',
    },
  };
}

/** Builds the application from its plugins. It does not listen: server.ts does. */
export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(options.config),
    trustProxy: options.config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    bodyLimit: 1_048_576,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', options.config);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  // Security headers on every reply, errors and the HTML pages (the invitation page, /docs) included.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(errorsPlugin);
  await app.register(dbPlugin, options.db ? { db: options.db } : {});
  await app.register(queuesPlugin);
  await app.register(overloadPlugin);
  await app.register(metricsPlugin);
  await app.register(authPlugin);
  await app.register(openapiPlugin);
  await app.register(formbody, { bodyLimit: 4096 });

  await app.register(opsRoutes);
  await app.register(roleRoutes);
  await app.register(locationRoutes);
  await app.register(userRoutes);
  await app.register(invitationRoutes);
  await app.register(settingsRoutes);
  await app.register(importRoutes);
  await app.register(scimPlugin);
  await app.register(metricsRoutes);
  await app.register(queuesBoard);
  await app.register(webRoutes);

  return app;
}
