import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../lib/errors.js';

export const WEB_PREFIX = '/app';

/** dist/web, built by Vite (npm run build:web), whether this file runs compiled or from source. */
export function webRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = here.split(path.sep).includes('dist');
  return path.resolve(here, compiled ? '../../web' : '../../dist/web');
}

const ASSET = /^assets\/[\w.-]+$/;

/**
 * The web app for customer success (a Preact single-page app, web/) under /app. The files are public:
 * the app signs in with a workspace token kept in the browser's sessionStorage and calls the same
 * /v1 API as anyone else. Hashed assets are cached for a year; any other path under /app is the app's
 * own route and gets index.html, never cached, so a deploy is picked up on the next load.
 */
export default async function webRoutes(app: FastifyInstance): Promise<void> {
  const root = webRoot();
  const built = existsSync(path.join(root, 'index.html'));
  if (built) await app.register(fastifyStatic, { root, serve: false, cacheControl: false });

  const index = (reply: FastifyReply) => {
    if (!built) {
      throw new AppError(
        503,
        'web_app_not_built',
        'The web app is not built on this server; run npm run build (it builds dist/web).',
      );
    }
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html');
  };

  const schema = { hide: true };
  app.get('/', { config: { public: true }, schema }, async (_request, reply) =>
    reply.redirect(`${WEB_PREFIX}/`),
  );
  app.get(WEB_PREFIX, { config: { public: true }, schema }, async (_request, reply) =>
    reply.redirect(`${WEB_PREFIX}/`),
  );
  app.get<{ Params: { '*': string } }>(
    `${WEB_PREFIX}/*`,
    { config: { public: true }, schema },
    async (request, reply) => {
      const rest = request.params['*'];
      if (rest.startsWith('assets/')) {
        if (!built || !ASSET.test(rest) || !existsSync(path.join(root, rest))) {
          throw new AppError(404, 'route_not_found', `No file ${WEB_PREFIX}/${rest}.`);
        }
        return reply.header('cache-control', 'public, max-age=31536000, immutable').sendFile(rest);
      }
      return index(reply);
    },
  );
}
