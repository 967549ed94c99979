import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import type { Scope } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import { bearerToken } from './tokens.js';
import { authenticateRequest, type Caller } from './tokens.service.js';

export interface RouteAccess {
  method: string;
  url: string;
  access: 'public' | 'operator' | 'any-scope' | Scope;
}

declare module 'fastify' {
  interface FastifyInstance {
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

const missingToken = (): AppError =>
  new AppError(
    401,
    'missing_token',
    'Send a workspace token as "Authorization: Bearer <token>".',
    {},
    {
      'www-authenticate': 'Bearer',
    },
  );

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const token = bearerToken(header);
  if (token === undefined) {
    throw new AppError(
      401,
      'invalid_token',
      'The Authorization header must read "Bearer <token>".',
      {},
      {
        'www-authenticate': 'Bearer error="invalid_request"',
      },
    );
  }
  return token;
}

const equalSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const OPERATOR_ONLY = Symbol('operatorOnly');

/**
 * Makes every route registered in this (encapsulated) instance and its children an operator route, for
 * third-party plugins that register their own routes without our config (bull-board, its static files).
 */
export function operatorOnly(app: FastifyInstance): void {
  app.decorate(OPERATOR_ONLY, true);
}

/** The caller of a route that declared a scope; the auth hook guarantees it is set. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route has no scope: callerOf needs an authenticated route');
  return request.caller;
}

/**
 * Every route declares `public`, `operator` or a `scope` in its config; a route that declares none
 * stops the start. Workspace tokens never open operator routes, and the operator token opens nothing else.
 */
export default fp(
  async function auth(app: FastifyInstance) {
    const table: RouteAccess[] = [];
    app.decorate('accessTable', table);
    app.addHook('onRoute', function (route) {
      if ((this as unknown as Record<symbol, unknown>)[OPERATOR_ONLY] === true) {
        route.config = { ...route.config, operator: true, public: false, scope: undefined };
      }
      const config = (route.config ?? {}) as {
        public?: boolean;
        operator?: boolean;
        scope?: Scope;
        anyScope?: boolean;
      };
      if (route.url.startsWith('/docs')) return; // the OpenAPI UI's own routes
      if (!config.public && !config.operator && !config.scope && !config.anyScope) {
        throw new Error(
          `route ${String(route.method)} ${route.url} declares no scope, operator or public access`,
        );
      }
      const access = config.public
        ? 'public'
        : config.operator
          ? 'operator'
          : config.anyScope
            ? 'any-scope'
            : config.scope!;
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') table.push({ method, url: route.url, access });
      }
    });

    app.addHook('onRequest', async (request) => {
      const config = request.routeOptions.config;
      if (config.public || request.is404 || request.routeOptions.url?.startsWith('/docs')) return;
      const token = bearer(request);
      if (!token) throw missingToken();
      if (config.operator) {
        const operatorToken = app.config.operatorToken;
        if (!operatorToken || !equalSecret(token, operatorToken)) {
          throw new AppError(
            401,
            'invalid_token',
            'This route takes the OPERATOR_TOKEN; workspace tokens do not open it.',
            {},
            {
              'www-authenticate': 'Bearer error="invalid_token"',
            },
          );
        }
        return;
      }
      const caller = await authenticateRequest(app.db, token, request);
      if (config.scope && !caller.scopes.includes(config.scope)) {
        throw new AppError(
          403,
          'insufficient_scope',
          `This token lacks the '${config.scope}' scope; create one with: token create --workspace ${caller.workspaceId} --scope ${config.scope}.`,
          { requiredScope: config.scope },
        );
      }
      request.caller = caller;
    });
  },
  { name: 'auth', dependencies: ['db', 'errors'] },
);
