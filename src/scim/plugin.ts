import type { FastifyInstance } from 'fastify';
import bulkRoutes from './bulk.routes.js';
import discoveryRoutes from './discovery.routes.js';
import usersRoutes from './users.routes.js';

/**
 * SCIM 2.0 at /scim/v2. Bodies arrive as application/scim+json or application/json and are parsed as
 * JSON (prototype-poisoning keys refused); an empty body is no body, since identity providers send a
 * content type with their DELETEs.
 */
export default async function scim(app: FastifyInstance): Promise<void> {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'string', bodyLimit: 2_097_152 },
    (request, body, done) => {
      if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
      return json(request, typeof body === 'string' ? body : body.toString('utf8'), done);
    },
  );
  await app.register(discoveryRoutes);
  await app.register(usersRoutes);
  await app.register(bulkRoutes);
}
