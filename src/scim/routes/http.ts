import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ScimError } from '../../lib/errors.js';
import { jsonBody } from '../../lib/json-stream.js';
import { projectResource } from '../resources/deferred.js';
import type { ListParams } from '../resources/lists.js';

/** What the SCIM routes of Users and Groups share: media type, parameter schemas, list parameters. */

export const SCIM_JSON = 'application/scim+json; charset=utf-8';
export const IdParams = Type.Object({
  id: Type.String({ maxLength: 200, examples: ['01907c4e-2f1a-7b3c-8d4e-5f6a7b8c9d01'] }),
});
const Projection = {
  attributes: Type.Optional(Type.String({ maxLength: 2000 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2000 })),
};
export const ProjectionQuery = Type.Object(Projection);
export const ListQuery = Type.Object({
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

/** The list parameters of a POST /.search body (RFC 7644 §3.4.3). */
export function searchParams(body: unknown): ListParams {
  const value = body ?? {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ScimError(400, 'invalidSyntax', 'The body must be a SearchRequest object.');
  return listParams(value as Record<string, unknown>);
}

/**
 * Sends a resource with its ETag, projected by the request's attributes / excludedAttributes; members
 * a group defers are streamed into the answer (see deferMembers).
 */
export function sendResource(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  resource: Record<string, unknown>,
) {
  const meta = resource.meta as { version?: string } | undefined;
  if (meta?.version) void reply.header('etag', meta.version);
  const q = request.query as { attributes?: string; excludedAttributes?: string };
  return reply
    .status(status)
    .type(SCIM_JSON)
    .send(jsonBody(projectResource(resource, q.attributes, q.excludedAttributes)));
}
