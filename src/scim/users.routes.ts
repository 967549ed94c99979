import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../auth/plugin.js';
import { ScimError } from '../lib/errors.js';
import { notModified } from './etag.js';
import { userLocation } from './mapper.js';
import { project } from './projection.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
  scimCaller,
  type ListParams,
  type ScimCaller,
} from './users.service.js';

export const SCIM_JSON = 'application/scim+json; charset=utf-8';
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const Projection = {
  attributes: Type.Optional(Type.String({ maxLength: 2000 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2000 })),
};
const ProjectionQuery = Type.Object(Projection);
const ListQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  startIndex: Type.Optional(Type.String()),
  count: Type.Optional(Type.String()),
  sortBy: Type.Optional(Type.String({ maxLength: 200 })),
  sortOrder: Type.Optional(Type.String({ maxLength: 20 })),
  ...Projection,
});

const integer = (raw: unknown, name: string): number | undefined => {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = typeof raw === 'number' || typeof raw === 'string' ? String(raw) : '';
  if (!/^-?\d{1,9}$/.test(text)) throw new ScimError(400, 'invalidValue', `${name} must be an integer.`);
  return Number(text);
};

const text = (raw: unknown, name: string): string | undefined => {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string')
    throw new ScimError(
      400,
      name === 'filter' ? 'invalidFilter' : 'invalidValue',
      `${name} must be a string.`,
    );
  return raw;
};

/** List parameters from a query string or a /.search body, as RFC 7644 §3.4.2 and §3.4.3 name them. */
export function listParams(source: Record<string, unknown>): ListParams {
  const params: ListParams = {};
  const startIndex = integer(source.startIndex, 'startIndex');
  const count = integer(source.count, 'count');
  if (startIndex !== undefined) params.startIndex = startIndex;
  if (count !== undefined) params.count = count;
  for (const key of ['filter', 'sortBy', 'sortOrder'] as const) {
    const value = text(source[key], key);
    if (value !== undefined) params[key] = value;
  }
  for (const key of ['attributes', 'excludedAttributes'] as const) {
    const value = source[key];
    const joined = Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string').join(',')
      : text(value, key);
    if (joined !== undefined) params[key] = joined;
  }
  return params;
}

/** SCIM Users (RFC 7644 §3): resources and errors in SCIM's own JSON, with `application/scim+json`. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const caller = (request: FastifyRequest): ScimCaller =>
    scimCaller(request, callerOf(request), app.config.publicUrl);
  const send = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    resource: Record<string, unknown>,
  ) => {
    const meta = resource.meta as { version?: string } | undefined;
    if (meta?.version) void reply.header('etag', meta.version);
    const q = request.query as { attributes?: string; excludedAttributes?: string };
    return reply
      .status(status)
      .type(SCIM_JSON)
      .send(project(resource, q.attributes, q.excludedAttributes));
  };
  const config = { scope: 'scim' as const };
  const tags = ['scim'];

  app.get(
    '/scim/v2/Users',
    { config, schema: { tags, summary: 'List or filter users', querystring: ListQuery } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(await listScimUsers(app.db, caller(request), listParams(request.query))),
  );

  app.post(
    '/scim/v2/Users/.search',
    { config, schema: { tags, summary: 'Search users (POST form of the list)' } },
    async (request, reply) => {
      const body = request.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        throw new ScimError(400, 'invalidSyntax', 'The body must be a SearchRequest object.');
      return reply
        .status(200)
        .type(SCIM_JSON)
        .send(await listScimUsers(app.db, caller(request), listParams(body as Record<string, unknown>)));
    },
  );

  app.post(
    '/scim/v2/Users',
    { config, schema: { tags, summary: 'Create a user (201 with Location)', querystring: ProjectionQuery } },
    async (request, reply) => {
      const resource = await createScimUser(app.db, caller(request), request.body);
      void reply.header('location', userLocation(app.config.publicUrl, resource.id as string));
      return send(request, reply, 201, resource);
    },
  );

  app.get(
    '/scim/v2/Users/:id',
    { config, schema: { tags, summary: 'Get a user', params: IdParams, querystring: ProjectionQuery } },
    async (request, reply) => {
      const resource = await getScimUser(app.db, caller(request), request.params.id);
      const version = (resource.meta as { version: string }).version;
      if (notModified(request.headers['if-none-match'], version)) {
        return reply.status(304).header('etag', version).send();
      }
      return send(request, reply, 200, resource);
    },
  );

  app.put(
    '/scim/v2/Users/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Replace a user (the role is kept when not sent)',
        params: IdParams,
        querystring: ProjectionQuery,
      },
    },
    async (request, reply) =>
      send(
        request,
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
    {
      config,
      schema: {
        tags,
        summary: 'Patch a user (RFC 7644 §3.5.2)',
        params: IdParams,
        querystring: ProjectionQuery,
      },
    },
    async (request, reply) =>
      send(
        request,
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
      await deleteScimUser(app.db, caller(request), request.params.id, request.headers['if-match']);
      return reply.status(204).send();
    },
  );
};

export default routes;
