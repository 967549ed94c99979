import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { STATUS_CODES } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorBody, ScimErrorBody, errorResponses, scimErrors } from '../api/common.js';

/**
 * What the OpenAPI says about a route beyond what Fastify checks: never validated, never serialized.
 * For bodies Fastify does not parse as JSON (a multipart upload) and answers written by hand (SCIM
 * resources, whose response schemas would strip extension attributes).
 */
export interface RouteDocs {
  /** Request bodies by media type. */
  body?: Record<string, TSchema>;
  /** Responses by status, added to those of `schema.response`. */
  responses?: Record<number, TSchema>;
  /** Documented in place of `schema.querystring` (enums the service checks itself, with its own codes). */
  querystring?: TSchema;
}

declare module 'fastify' {
  interface FastifySchema {
    docs?: RouteDocs;
  }
}

const DESCRIPTION = [
  'Bulk user provisioning and sync for Loopit workspaces: CSV and Excel imports, SCIM 2.0, REST.',
  '',
  "The rules that hold across routes (scopes, every error code, lists and cursors, import semantics, idempotency, the change journal) are in **docs/api.md** of the service's source; SCIM behaviour in **docs/scim.md**, running it in **docs/operations.md**.",
  '',
  'JSON errors read `{ "error": { "code", "message", "requestId", ...details } }`; routes under `/scim/v2` answer in the SCIM error envelope (RFC 7644 §3.12). Every response carries `x-request-id`.',
].join('\n');

interface Access {
  scope?: string;
  operator?: boolean;
  public?: boolean;
  anyScope?: boolean;
}

function accessNote(c: Access): string {
  if (c.public) return 'No token.';
  if (c.operator) return 'Takes the OPERATOR_TOKEN, never a workspace token.';
  if (c.anyScope) return 'Any workspace token, whatever its scopes.';
  return c.scope ? `Scope: \`${c.scope}\`.` : '';
}

/** Liveness and readiness are spared the rate limit and the overload answer. */
const PROBES = ['/healthz', '/readyz'];

/**
 * The error statuses every route of its kind can answer, whatever it does: 401 and 403 from the token
 * check, 429 from the rate limit, 503 from the overload guard or a statement timeout, 500.
 */
function serviceErrors(url: string, access: Access, declared: object): Record<number, TSchema> {
  const statuses = [
    ...(access.public ? [] : [401]),
    ...(access.scope ? [403] : []),
    ...(PROBES.includes(url) ? [] : [429, 503]),
    500,
  ].filter((status) => !(status in declared));
  return url.startsWith('/scim/') ? scimErrors(...statuses) : errorResponses(...statuses);
}

/**
 * The route's schema as the OpenAPI shows it: its docs merged in, the errors every route can answer
 * added, its access appended to the description.
 */
function documented(
  schema: FastifySchema | undefined,
  url: string,
  config: RouteOptions['config'],
): FastifySchema {
  if (!schema) return {};
  const { docs, ...rest } = schema as FastifySchema & { description?: string };
  const out: Record<string, unknown> = { ...rest };
  const c = (config ?? {}) as Access;
  const access = accessNote(c);
  if (rest.description) out.description = access ? `${rest.description}\n\n${access}` : rest.description;
  if (docs?.querystring) out.querystring = docs.querystring;
  if (docs?.body)
    out.body = {
      content: Object.fromEntries(Object.entries(docs.body).map(([type, s]) => [type, { schema: s }])),
    };
  const declared: Record<string, TSchema> = Object.fromEntries(
    Object.entries({ ...(rest.response as object | undefined), ...docs?.responses }).map(
      ([status, response]: [string, TSchema]) => [
        status,
        response.description ? response : { ...response, description: STATUS_CODES[status] ?? status },
      ],
    ),
  );
  out.response = { ...declared, ...serviceErrors(url, c, declared) };
  return out;
}

type Node = Record<string, unknown>;

const isEnumBranch = (b: Node): boolean =>
  b.type === 'string' && Array.isArray(b.enum) && b.enum.length === 1 && Object.keys(b).length === 2;
const isNullBranch = (b: Node): boolean => b.nullable === true && Array.isArray(b.enum) && b.enum[0] === null;

/** `anyOf` of single string values (TypeBox's union of literals) reads as one `enum` in the OpenAPI. */
function enumsAsEnums(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(enumsAsEnums);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as Node;
  const anyOf = n.anyOf as Node[] | undefined;
  if (Array.isArray(anyOf) && anyOf.length > 0) {
    const values = anyOf.filter(isEnumBranch);
    const nulls = anyOf.filter(isNullBranch);
    if (values.length > 0 && values.length + nulls.length === anyOf.length) {
      delete n.anyOf;
      n.type = 'string';
      n.enum = values.map((b) => (b.enum as string[])[0]);
      if (nulls.length > 0) n.nullable = true;
    }
  }
  Object.values(n).forEach(enumsAsEnums);
}

/** OpenAPI 3 built from the route schemas, browsable at /docs (JSON at /docs/json). */
export default fp(
  async function openapi(app: FastifyInstance) {
    app.addSchema(ErrorBody);
    app.addSchema(ScimErrorBody);
    await app.register(swagger, {
      openapi: {
        info: { title: 'Loopit Provision', version: '1.0.0', description: DESCRIPTION },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
      transform: ({ schema, url, route }) => ({ schema: documented(schema, url, route.config), url }),
      transformObject: (documentObject) => {
        if ('openapiObject' in documentObject) {
          enumsAsEnums(documentObject.openapiObject);
          return documentObject.openapiObject;
        }
        return documentObject.swaggerObject;
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'openapi' },
);
