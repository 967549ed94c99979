import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scimErrors } from '../../api/common.js';
import { callerOf } from '../../auth/plugin.js';
import { jsonBody } from '../../lib/json-stream.js';
import { notModified } from '../resources/etag.js';
import type { ListParams } from '../resources/lists.js';
import { scimCaller, type ScimCaller } from '../resources/users.service.js';
import {
  IdParams,
  ListQuery,
  listParams,
  ProjectionQuery,
  SCIM_JSON,
  searchParams,
  sendResource,
} from './http.js';
import { SearchRequest, noContent, scimBody, scimResponse } from './docs.js';

type Json = Record<string, unknown>;

/** What one SCIM resource type's service offers the routes; `request` lets it read the projection. */
export interface ResourceService {
  list(db: FastifyInstance['db'], caller: ScimCaller, params: ListParams): Promise<Json>;
  get(db: FastifyInstance['db'], caller: ScimCaller, id: string, request: FastifyRequest): Promise<Json>;
  create(
    db: FastifyInstance['db'],
    caller: ScimCaller,
    body: unknown,
    request: FastifyRequest,
  ): Promise<Json>;
  replace(
    db: FastifyInstance['db'],
    caller: ScimCaller,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
    request: FastifyRequest,
  ): Promise<Json>;
  patch(
    db: FastifyInstance['db'],
    caller: ScimCaller,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
    request: FastifyRequest,
  ): Promise<Json>;
  remove(
    db: FastifyInstance['db'],
    caller: ScimCaller,
    id: string,
    ifMatch: string | undefined,
  ): Promise<void>;
  location(publicUrl: string, id: string): string;
}

type Operation = 'list' | 'create' | 'get' | 'replace' | 'patch' | 'remove';

export interface ResourceSpec {
  /** `Users` or `Groups`: the path under /scim/v2. */
  endpoint: string;
  summaries: Record<Operation, string>;
  descriptions: Record<Operation, string>;
  /** The OpenAPI's schemas and examples of the resource, its list, a body to write and a PatchOp. */
  docs: { resource: TSchema; list: TSchema; body: TSchema; patch: TSchema };
  service: ResourceService;
  /** PATCH answers 204 unless the request asks for attributes (Groups); else 200 with the resource. */
  patchNoContent?: boolean;
}

/** The routes of a SCIM resource type (RFC 7644 §3): list, search, create, read, replace, patch, delete. */
export function resourceRoutes(spec: ResourceSpec): FastifyPluginAsyncTypebox {
  return async (app) => {
    const { service, summaries, descriptions, docs } = spec;
    const one = spec.endpoint.replace(/s$/, '');
    const doc = (op: Operation, responses: Record<number, TSchema>, body?: TSchema) => ({
      summary: summaries[op],
      description: descriptions[op],
      docs: { responses, ...(body ? { body: scimBody(body) } : {}) },
    });
    const patchNoContent: Record<number, TSchema> = spec.patchNoContent
      ? {
          204: noContent(
            'patched; ETag is the new version (200 with the resource when attributes are asked for)',
          ),
        }
      : {};
    const listDocs = doc('list', {
      200: scimResponse(`a page of ${spec.endpoint}`, docs.list),
      ...scimErrors(400),
    });
    const base = `/scim/v2/${spec.endpoint}`;
    const caller = (request: FastifyRequest): ScimCaller =>
      scimCaller(request, callerOf(request), app.config.publicUrl);
    const config = { scope: 'scim' as const };
    const tags = ['scim'];
    const byId = { params: IdParams, querystring: ProjectionQuery };

    // `/Users/` is the collection too, as generic SCIM clients build it (hidden from the OpenAPI).
    for (const url of [base, `${base}/`]) {
      const hide = url !== base;
      app.get(
        url,
        { config, schema: { tags, ...listDocs, querystring: ListQuery, hide } },
        async (request, reply) =>
          reply
            .type(SCIM_JSON)
            .send(jsonBody(await service.list(app.db, caller(request), listParams(request.query)))),
      );
      app.post(
        url,
        {
          config,
          schema: {
            tags,
            ...doc(
              'create',
              {
                201: scimResponse(`the ${one}, with Location and ETag`, docs.resource),
                ...scimErrors(400, 409, 413),
              },
              docs.body,
            ),
            querystring: ProjectionQuery,
            hide,
          },
        },
        async (request, reply) => {
          const resource = await service.create(app.db, caller(request), request.body, request);
          void reply.header('location', service.location(app.config.publicUrl, resource.id as string));
          return sendResource(request, reply, 201, resource);
        },
      );
    }

    app.post(
      `${base}/.search`,
      {
        config,
        schema: {
          tags,
          ...listDocs,
          summary: `${summaries.list} (POST form, RFC 7644 §3.4.3)`,
          docs: { ...listDocs.docs, body: scimBody(SearchRequest) },
        },
      },
      async (request, reply) =>
        reply
          .status(200)
          .type(SCIM_JSON)
          .send(jsonBody(await service.list(app.db, caller(request), searchParams(request.body)))),
    );

    app.get(
      `${base}/:id`,
      {
        config,
        schema: {
          tags,
          ...doc('get', {
            200: scimResponse(`the ${one}, with ETag`, docs.resource),
            304: noContent('If-None-Match names the current version'),
            ...scimErrors(400, 404),
          }),
          ...byId,
        },
      },
      async (request, reply) => {
        const resource = await service.get(app.db, caller(request), request.params.id, request);
        const version = (resource.meta as { version: string }).version;
        if (notModified(request.headers['if-none-match'], version)) {
          return reply.status(304).header('etag', version).send();
        }
        return sendResource(request, reply, 200, resource);
      },
    );

    app.put(
      `${base}/:id`,
      {
        config,
        schema: {
          tags,
          ...doc(
            'replace',
            {
              200: scimResponse(`the ${one} as it now is, with ETag`, docs.resource),
              ...scimErrors(400, 404, 409, 412, 413),
            },
            docs.body,
          ),
          ...byId,
        },
      },
      async (request, reply) =>
        sendResource(
          request,
          reply,
          200,
          await service.replace(
            app.db,
            caller(request),
            request.params.id,
            request.body,
            request.headers['if-match'],
            request,
          ),
        ),
    );

    app.patch(
      `${base}/:id`,
      {
        config,
        schema: {
          tags,
          ...doc(
            'patch',
            {
              200: scimResponse(`the ${one} as it now is, with ETag`, docs.resource),
              ...patchNoContent,
              ...scimErrors(400, 404, 409, 412, 413),
            },
            docs.patch,
          ),
          ...byId,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const asked = q.attributes !== undefined || q.excludedAttributes !== undefined;
        const resource = await service.patch(
          app.db,
          caller(request),
          request.params.id,
          request.body,
          request.headers['if-match'],
          request,
        );
        if (!spec.patchNoContent || asked) return sendResource(request, reply, 200, resource);
        return reply
          .status(204)
          .header('etag', (resource.meta as { version: string }).version)
          .send();
      },
    );

    app.delete(
      `${base}/:id`,
      {
        config,
        schema: {
          tags,
          ...doc('remove', { 204: noContent('deleted'), ...scimErrors(400, 404, 412) }),
          params: IdParams,
        },
      },
      async (request, reply) => {
        await service.remove(app.db, caller(request), request.params.id, request.headers['if-match']);
        return reply.status(204).send();
      },
    );
  };
}
