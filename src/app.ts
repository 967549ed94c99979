import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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
import errorsPlugin, { sendError } from './plugins/errors.js';
import eventRoutes from './events/events.routes.js';
import importRoutes from './imports/imports.routes.js';
import rowFixRoutes from './imports/row-fixes.routes.js';
import revertRoutes from './imports/revert.routes.js';
import scimPlugin from './scim/routes/plugin.js';
import textGuard from './plugins/text-guard.js';
import openapiPlugin from './plugins/openapi.js';
import metricsPlugin from './plugins/metrics.js';
import overloadPlugin from './plugins/overload.js';
import queuesPlugin from './plugins/queues.js';
import locationRoutes from './users/locations.routes.js';
import roleRoutes from './users/roles.routes.js';
import invitationRoutes from './users/invitations.routes.js';
import settingsRoutes from './users/settings.routes.js';
import userRoutes from './users/users.routes.js';
import workspaceRoutes from './users/workspace.routes.js';
import webRoutes from './web/web.routes.js';
import webhookRoutes from './webhooks/webhooks.routes.js';
import webhookDeliveryRoutes from './webhooks/deliveries.routes.js';
import { useInvitationSecrets } from './provisioning/invitation-tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

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
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'token',
        '*.token',
        '*.password',
        'smtpUrl',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  };
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'request_timeout',
    'The request did not arrive whole within REQUEST_TIMEOUT_SECONDS; send it again, faster or smaller.',
  ],
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request headers are too large.'],
};

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'bad_request',
    'The request could not be read as HTTP/1.1.',
  ];
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code, message, requestId } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n\r\n${body}`,
  );
}

/** Builds the application from its plugins. It does not listen: server.ts does. */
export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  useInvitationSecrets(options.config);
  const requestTimeoutMs = options.config.requestTimeoutSeconds * 1000;
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
    // A path that is not valid percent-encoded UTF-8 (`/v1/users/%FF`) fails before routing: same envelope.
    frameworkErrors: (error, request, reply) => {
      void sendError(request, reply.header('x-request-id', request.id), {
        status: 400,
        code: 'invalid_url',
        message: `${error.message}; percent-encode the URL as UTF-8.`,
        scimType: 'invalidSyntax',
      });
    },
    // Node's own 300 s limit is switched off by Fastify's default of 0: a client that stops sending
    // would hold its connection (and an upload's spool file) forever. Given to http.createServer too:
    // on Node 20 the limit only holds when the server is constructed with it (Fastify sets it later).
    requestTimeout: requestTimeoutMs,
    // What Node refuses before a request exists (a request that timed out, malformed or oversized
    // headers) is answered in the JSON envelope too, then the connection is closed.
    clientErrorHandler: answerClientError,
    http: {
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, requestTimeoutMs / 2),
    },
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
  await app.register(textGuard);
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
  await app.register(rowFixRoutes);
  await app.register(revertRoutes);
  await app.register(workspaceRoutes);
  await app.register(webhookRoutes);
  await app.register(webhookDeliveryRoutes);
  await app.register(eventRoutes);
  await app.register(scimPlugin);
  await app.register(metricsRoutes);
  await app.register(queuesBoard);
  await app.register(webRoutes);

  return app;
}
