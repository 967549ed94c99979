import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { scimErrors } from '../../api/common.js';
import type { FastifyReply } from 'fastify';
import {
  getResourceType,
  getSchema,
  listResourceTypes,
  listSchemas,
  refuseFilter,
  serviceProviderConfig,
  type ScimJson,
} from '../schema/discovery.service.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';

// Permissive on purpose: a response schema that lists properties would strip the rest (STYLE warnings).
const Resource = Type.Object(
  { schemas: Type.Array(Type.String()) },
  { additionalProperties: true, description: 'a SCIM resource (RFC 7643)' },
);
const FilterQuery = Type.Object({
  filter: Type.Optional(Type.String({ description: 'not supported here: 403' })),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** SCIM discovery (RFC 7644 §4): what this service supports, for identity providers to read. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const config = { scope: 'scim' as const };
  const tags = ['scim'];
  const publicUrl = app.config.publicUrl;
  const send = (reply: FastifyReply, body: ScimJson) => reply.type(SCIM_JSON).send(body);

  app.get(
    '/scim/v2/ServiceProviderConfig',
    {
      config,
      schema: {
        tags,
        summary: 'The SCIM features this service supports',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
      },
    },
    async (request, reply) => {
      refuseFilter(request.query.filter, 'ServiceProviderConfig');
      return send(reply, serviceProviderConfig(publicUrl));
    },
  );

  app.get(
    '/scim/v2/ResourceTypes',
    {
      config,
      schema: {
        tags,
        summary: 'The SCIM resource types (a ListResponse)',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
      },
    },
    async (request, reply) => {
      refuseFilter(request.query.filter, 'ResourceTypes');
      return send(reply, listResourceTypes(publicUrl));
    },
  );

  app.get(
    '/scim/v2/ResourceTypes/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One SCIM resource type, such as User',
        params: IdParams,
        response: { 200: Resource, ...scimErrors(401, 403, 404) },
      },
    },
    async (request, reply) => send(reply, getResourceType(publicUrl, request.params.id)),
  );

  app.get(
    '/scim/v2/Schemas',
    {
      config,
      schema: {
        tags,
        summary: 'The SCIM schemas (a ListResponse)',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
      },
    },
    async (request, reply) => {
      refuseFilter(request.query.filter, 'Schemas');
      return send(reply, listSchemas(publicUrl));
    },
  );

  app.get(
    '/scim/v2/Schemas/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One SCIM schema, by its URN',
        params: IdParams,
        response: { 200: Resource, ...scimErrors(401, 403, 404) },
      },
    },
    async (request, reply) => send(reply, getSchema(publicUrl, request.params.id)),
  );
};

export default routes;
