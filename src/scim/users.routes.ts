import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../auth/plugin.js';
import { ScimError } from '../lib/errors.js';
import { userLocation } from './mapper.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
  type ScimCaller,
} from './users.service.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const ListQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  startIndex: Type.Optional(Type.String()),
  count: Type.Optional(Type.String()),
  attributes: Type.Optional(Type.String()),
  excludedAttributes: Type.Optional(Type.String()),
});

const integer = (raw: string | undefined, name: string): number | undefined => {
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d{1,9}$/.test(raw)) throw new ScimError(400, 'invalidValue', `${name} must be an integer.`);
  return Number(raw);
};

/** SCIM Users (RFC 7644 §3): resources and errors in SCIM's own JSON, with `application/scim+json`. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const caller = (request: FastifyRequest): ScimCaller => {
    const c = callerOf(request);
    return { workspaceId: c.workspaceId, actor: c.tokenPrefix, publicUrl: app.config.publicUrl };
  };
  const send = (reply: FastifyReply, status: number, resource: Record<string, unknown>) => {
    const meta = resource.meta as { version?: string } | undefined;
    if (meta?.version) void reply.header('etag', meta.version);
    return reply.status(status).type(SCIM_JSON).send(resource);
  };
  const config = { scope: 'scim' as const };
  const tags = ['scim'];

  app.get(
    '/scim/v2/Users',
    { config, schema: { tags, summary: 'List or filter users', querystring: ListQuery } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(
        await listScimUsers(app.db, caller(request), {
          ...(request.query.filter !== undefined ? { filter: request.query.filter } : {}),
          ...(integer(request.query.startIndex, 'startIndex') !== undefined
            ? { startIndex: integer(request.query.startIndex, 'startIndex')! }
            : {}),
          ...(integer(request.query.count, 'count') !== undefined
            ? { count: integer(request.query.count, 'count')! }
            : {}),
        }),
      ),
  );

  app.post(
    '/scim/v2/Users/.search',
    { config, schema: { tags, summary: 'Search users (POST form of the list)' } },
    async (request, reply) => {
      const body = (request.body ?? {}) as { filter?: unknown; startIndex?: unknown; count?: unknown };
      if (body.filter !== undefined && typeof body.filter !== 'string')
        throw new ScimError(400, 'invalidFilter', 'filter must be a string.');
      const num = (v: unknown, name: string) =>
        v === undefined
          ? undefined
          : integer(typeof v === 'number' || typeof v === 'string' ? String(v) : 'x', name);
      return reply
        .status(200)
        .type(SCIM_JSON)
        .send(
          await listScimUsers(app.db, caller(request), {
            ...(typeof body.filter === 'string' ? { filter: body.filter } : {}),
            ...(num(body.startIndex, 'startIndex') !== undefined
              ? { startIndex: num(body.startIndex, 'startIndex')! }
              : {}),
            ...(num(body.count, 'count') !== undefined ? { count: num(body.count, 'count')! } : {}),
          }),
        );
    },
  );

  app.post(
    '/scim/v2/Users',
    { config, schema: { tags, summary: 'Create a user (201 with Location)' } },
    async (request, reply) => {
      const resource = await createScimUser(app.db, caller(request), request.body);
      void reply.header('location', userLocation(app.config.publicUrl, resource.id as string));
      return send(reply, 201, resource);
    },
  );

  app.get(
    '/scim/v2/Users/:id',
    { config, schema: { tags, summary: 'Get a user', params: IdParams } },
    async (request, reply) => send(reply, 200, await getScimUser(app.db, caller(request), request.params.id)),
  );

  app.put(
    '/scim/v2/Users/:id',
    {
      config,
      schema: { tags, summary: 'Replace a user (the role is kept when not sent)', params: IdParams },
    },
    async (request, reply) =>
      send(
        reply,
        200,
        await replaceScimUser(
          app.db,
          caller(request),
          request.params.id,
          request.body,
          request.headers['if-match'],
        ),
      ),
  );

  app.patch(
    '/scim/v2/Users/:id',
    { config, schema: { tags, summary: 'Patch a user (RFC 7644 §3.5.2)', params: IdParams } },
    async (request, reply) =>
      send(
        reply,
        200,
        await patchScimUser(
          app.db,
          caller(request),
          request.params.id,
          request.body,
          request.headers['if-match'],
        ),
      ),
  );

  app.delete(
    '/scim/v2/Users/:id',
    {
      config,
      schema: { tags, summary: 'Delete a user (404 afterwards; userName free again)', params: IdParams },
    },
    async (request, reply) => {
      await deleteScimUser(app.db, caller(request), request.params.id);
      return reply.status(204).send();
    },
  );
};

export default routes;
