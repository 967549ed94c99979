import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { callerOf } from '../auth/plugin.js';
import { notModified } from './etag.js';
import {
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  groupLocation,
  listScimGroups,
  patchScimGroup,
  replaceScimGroup,
  wantsMembers,
} from './groups.service.js';
import {
  IdParams,
  ListQuery,
  listParams,
  ProjectionQuery,
  SCIM_JSON,
  searchParams,
  sendResource,
} from './http.js';
import { scimCaller, type ScimCaller } from './users.service.js';

type ProjectionParams = { attributes?: string; excludedAttributes?: string };

/** SCIM Groups (RFC 7644 §3): a group is a Loopit role; its members' effective roles follow it. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const caller = (request: FastifyRequest): ScimCaller =>
    scimCaller(request, callerOf(request), app.config.publicUrl);
  const members = (request: FastifyRequest) => {
    const q = request.query as ProjectionParams;
    return wantsMembers(q.attributes, q.excludedAttributes);
  };
  const send = sendResource;
  const config = { scope: 'scim' as const };
  const tags = ['scim'];

  app.get(
    '/scim/v2/Groups',
    { config, schema: { tags, summary: 'List or filter groups (roles)', querystring: ListQuery } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(await listScimGroups(app.db, caller(request), listParams(request.query))),
  );

  app.post(
    '/scim/v2/Groups/.search',
    { config, schema: { tags, summary: 'Search groups (POST form of the list)' } },
    async (request, reply) => {
      const params = searchParams(request.body);
      return reply
        .status(200)
        .type(SCIM_JSON)
        .send(await listScimGroups(app.db, caller(request), params));
    },
  );

  app.post(
    '/scim/v2/Groups',
    {
      config,
      schema: {
        tags,
        summary: 'Create a group: a new role (201 with Location)',
        querystring: ProjectionQuery,
      },
    },
    async (request, reply) => {
      const resource = await createScimGroup(app.db, caller(request), request.body, members(request));
      void reply.header('location', groupLocation(app.config.publicUrl, resource.id as string));
      return send(request, reply, 201, resource);
    },
  );

  app.get(
    '/scim/v2/Groups/:id',
    { config, schema: { tags, summary: 'Get a group', params: IdParams, querystring: ProjectionQuery } },
    async (request, reply) => {
      const resource = await getScimGroup(app.db, caller(request), request.params.id, members(request));
      const version = (resource.meta as { version: string }).version;
      if (notModified(request.headers['if-none-match'], version)) {
        return reply.status(304).header('etag', version).send();
      }
      return send(request, reply, 200, resource);
    },
  );

  app.put(
    '/scim/v2/Groups/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Replace a group (name, externalId, members)',
        params: IdParams,
        querystring: ProjectionQuery,
      },
    },
    async (request, reply) =>
      send(
        request,
        reply,
        200,
        await replaceScimGroup(
          app.db,
          caller(request),
          request.params.id,
          request.body,
          request.headers['if-match'],
          members(request),
        ),
      ),
  );

  app.patch(
    '/scim/v2/Groups/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Patch a group: rename, members (204; 200 with the group when attributes are asked for)',
        params: IdParams,
        querystring: ProjectionQuery,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const answer = q.attributes !== undefined || q.excludedAttributes !== undefined;
      const resource = await patchScimGroup(
        app.db,
        caller(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
        answer && members(request),
      );
      if (answer) return send(request, reply, 200, resource);
      return reply
        .status(204)
        .header('etag', (resource.meta as { version: string }).version)
        .send();
    },
  );

  app.delete(
    '/scim/v2/Groups/:id',
    {
      config,
      schema: { tags, summary: 'Delete a group and its role (members fall back)', params: IdParams },
    },
    async (request, reply) => {
      await deleteScimGroup(app.db, caller(request), request.params.id, request.headers['if-match']);
      return reply.status(204).send();
    },
  );
};

export default routes;
