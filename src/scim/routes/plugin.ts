import type { FastifyInstance } from 'fastify';
import { callerOf } from '../../auth/plugin.js';
import { recordRefusedWrite, type Refusal } from '../resources/audit.service.js';
import bulkRoutes from './bulk.routes.js';
import discoveryRoutes from './discovery.routes.js';
import { checkedText } from './json-body.js';
import groupsRoutes from './groups.routes.js';
import { scimCaller } from '../resources/users.service.js';
import usersRoutes from './users.routes.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const RESOURCE = /^\/scim\/v2\/(Users|Groups)(?:\/:id|\/)?$/;

function refusal(status: number, payload: unknown): Refusal {
  try {
    const body = JSON.parse(typeof payload === 'string' ? payload : '') as Record<string, unknown>;
    return {
      status,
      ...(typeof body.scimType === 'string' ? { scimType: body.scimType } : {}),
      ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
    };
  } catch {
    return { status };
  }
}

/**
 * SCIM 2.0 at /scim/v2. Bodies arrive as application/scim+json or application/json and are parsed as
 * JSON (prototype-poisoning keys refused); an empty body is no body, since identity providers send a
 * content type with their DELETEs. A write refused after authentication is recorded in the
 * provisioning log (audit action `scim.rejected`).
 */
export default async function scim(app: FastifyInstance): Promise<void> {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'string', bodyLimit: 2_097_152 },
    (request, body, done) => {
      if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
      return json(request, typeof body === 'string' ? body : body.toString('utf8'), checkedText(done));
    },
  );
  app.addHook('onSend', async (request, reply, payload) => {
    const match = RESOURCE.exec(request.routeOptions.url ?? '');
    if (reply.statusCode < 400 || !match || !WRITES.has(request.method) || !request.caller) return payload;
    const resource = match[1] === 'Users' ? 'user' : 'group';
    const id = (request.params as { id?: string } | undefined)?.id;
    try {
      await recordRefusedWrite(
        app.db,
        scimCaller(request, callerOf(request), app.config.publicUrl),
        resource,
        id,
        request.body,
        refusal(reply.statusCode, payload),
      );
    } catch (err) {
      request.log.error({ err }, 'could not record a refused SCIM write in the audit log');
    }
    return payload;
  });
  await app.register(discoveryRoutes);
  await app.register(usersRoutes);
  await app.register(groupsRoutes);
  await app.register(bulkRoutes);
}
