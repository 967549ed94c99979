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
import { LOOPIT_USER } from '../schema/urns.js';
import { scimResponse } from './docs.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';

// Permissive on purpose: a response schema that lists properties would strip the rest (STYLE warnings).
const Resource = Type.Object(
  { schemas: Type.Array(Type.String()) },
  { additionalProperties: true, description: 'a SCIM resource (RFC 7643)' },
);
/** A discovery answer for the OpenAPI, with this service's own answer as its example. */
const example = (description: string, body: ScimJson) =>
  scimResponse(description, { ...Resource, examples: [body] });

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
        description:
          'PATCH, Bulk (maxOperations, maxPayloadSize), filter (maxResults), sort, ETag and the bearer scheme; a filter is 403.',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
        docs: { responses: { 200: example('the ServiceProviderConfig', serviceProviderConfig(publicUrl)) } },
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
        description: 'User (with the enterprise and Loopit extensions) and Group; a filter is 403.',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
        docs: {
          responses: { 200: example('a ListResponse of ResourceTypes', listResourceTypes(publicUrl)) },
        },
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
        description: 'User or Group; any other id is 404.',
        params: IdParams,
        response: { 200: Resource, ...scimErrors(401, 403, 404) },
        docs: { responses: { 200: example('the ResourceType', getResourceType(publicUrl, 'User')) } },
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
        description:
          'Generated from the one schema model that also validates, patches, filters and projects: what it declares is what the service does. A filter is 403.',
        querystring: FilterQuery,
        response: { 200: Resource, ...scimErrors(401, 403) },
        docs: { responses: { 200: example('a ListResponse of Schemas', listSchemas(publicUrl)) } },
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
        description:
          'The core User and Group schemas, the enterprise User extension and the Loopit extension; any other URN is 404.',
        params: IdParams,
        response: { 200: Resource, ...scimErrors(401, 403, 404) },
        docs: { responses: { 200: example('the Schema', getSchema(publicUrl, LOOPIT_USER)) } },
      },
    },
    async (request, reply) => send(reply, getSchema(publicUrl, request.params.id)),
  );
};

export default routes;
