import { Type, type TSchema } from '@sinclair/typebox';

/**
 * The API's shapes (STYLE habit 15): each TypeBox schema here is a route's validation, its OpenAPI,
 * and, as `Static<typeof Schema>`, the type the services return and the web app reads. These modules
 * import nothing but TypeBox, so the web app's build can read them (type-only).
 */

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Ref = Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() });

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'stable snake_case code' }),
        message: Type.String({ description: 'what went wrong and what to do' }),
        requestId: Type.String(),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'Error', additionalProperties: true },
);

export const ScimErrorBody = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    status: Type.String({ description: 'the HTTP status, as a string' }),
    scimType: Type.Optional(Type.String({ description: 'RFC 7644 §3.12 error type, such as uniqueness' })),
    detail: Type.String({ description: 'what went wrong and what to do' }),
  },
  { $id: 'ScimError', additionalProperties: true, description: 'SCIM error (RFC 7644 §3.12)' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'bad input',
  401: 'no token, or an unknown or revoked one',
  403: 'the token lacks the scope this route needs',
  404: 'not found, or another workspace’s',
  409: 'conflict',
  410: 'gone',
  413: 'too large',
  415: 'unsupported file type',
  422: 'well-formed but unusable',
  429: 'too many requests; see Retry-After',
  503: 'unavailable; see Retry-After',
};

/** Response schemas for the error statuses a route can answer. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((s) => [s, Type.Ref('Error', { description: ERROR_DESCRIPTIONS[s] ?? 'error' })]),
  );
}

/** Response schemas for the SCIM error statuses a route can answer. */
export function scimErrors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((s) => [s, Type.Ref('ScimError', { description: ERROR_DESCRIPTIONS[s] ?? 'error' })]),
  );
}

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ description: 'page size, 1–1000 (default 50)' })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
