import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { callerOf } from '../auth/plugin.js';
import { notModified } from './etag.js';
import {
  IdParams,
  ListQuery,
  listParams,
  ProjectionQuery,
  SCIM_JSON,
  searchParams,
  sendResource,
} from './http.js';
import { userLocation } from './mapper.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
  scimCaller,
  type ScimCaller,
} from './users.service.js';

/** SCIM Users (RFC 7644 §3): resources and errors in SCIM's own JSON, with `application/scim+json`. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const caller = (request: FastifyRequest): ScimCaller =>
    scimCaller(request, callerOf(request), app.config.publicUrl);
  const send = sendResource;
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
      const params = searchParams(request.body);
      return reply
        .status(200)
        .type(SCIM_JSON)
        .send(await listScimUsers(app.db, caller(request), params));
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
