import {
  Type,
  type ObjectOptions,
  type SchemaOptions,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type Static,
  type TString,
} from '@sinclair/typebox';

/**
 * The API's shapes (STYLE habit 15): each TypeBox schema here is a route's validation, its OpenAPI,
 * and, as `Static<typeof Schema>`, the type the services return and the web app reads. These modules
 * import nothing but TypeBox, so the web app's build can read them (type-only).
 */

export const Uuid = Type.String({ format: 'uuid' });
export const DateTime = Type.String({ format: 'date-time' });

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** One of these strings (an `enum` in the OpenAPI). */
export const Literals = <T extends string>(values: readonly T[], options?: SchemaOptions) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

/**
 * What a route validates of parameters the service reads itself, with its own error codes: each an
 * optional string, under the description `documented` gives it (the OpenAPI shows `documented`).
 */
export function asQueryStrings<P extends TProperties>(
  documented: TObject<P>,
  options: ObjectOptions,
): TObject<{ [K in keyof P]: TOptional<TString> }> {
  const properties = Object.fromEntries(
    Object.entries(documented.properties).map(([name, p]) => [
      name,
      Type.Optional(Type.String(p.description ? { description: p.description } : {})),
    ]),
  );
  return Type.Object(properties, options) as TObject<{ [K in keyof P]: TOptional<TString> }>;
}

export const Ref = Type.Object({ id: Uuid, name: Type.String() });
export type Ref = Static<typeof Ref>;

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
  {
    $id: 'Error',
    additionalProperties: true,
    examples: [
      {
        error: {
          code: 'role_exists',
          message: "A role named 'Admin' exists in this workspace; choose another name.",
          requestId: '5f0c2a8e-3b9d-4c61-a7f2-8e1d4b6c9a03',
        },
      },
    ],
  },
);

export const ScimErrorBody = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    status: Type.String({ description: 'the HTTP status, as a string' }),
    scimType: Type.Optional(Type.String({ description: 'RFC 7644 §3.12 error type, such as uniqueness' })),
    detail: Type.String({ description: 'what went wrong and what to do' }),
  },
  {
    $id: 'ScimError',
    additionalProperties: true,
    description: 'SCIM error (RFC 7644 §3.12)',
    examples: [
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '409',
        scimType: 'uniqueness',
        detail: "userName 'ann.lee@example.com' is taken in this workspace.",
      },
    ],
  },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'bad input',
  401: 'no token, or an unknown or revoked one',
  403: 'the token lacks the scope this route needs',
  404: 'not found, or another workspace’s',
  409: 'conflict',
  410: 'gone',
  412: 'If-Match names another version than the current one',
  413: 'too large',
  415: 'unsupported file type',
  422: 'well-formed but unusable',
  429: 'too many requests; see Retry-After',
  500: 'a fault on our side; quote the requestId',
  503: 'overloaded, a statement timed out, or a dependency is down; see Retry-After',
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

/** A response that is not JSON (a CSV file, a page, metrics), for the OpenAPI. */
export const textResponse = (type: string, description: string, example: string): TSchema =>
  ({ description, content: { [type]: { schema: { type: 'string' }, example } } }) as unknown as TSchema;

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ description: 'page size, 1–1000 (default 50)' })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

/** A page of a list; its example is one page of the item's example. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object(
    {
      data: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'pass as `cursor` for the next page; null on the last page',
      }),
    },
    Array.isArray(item.examples) ? { examples: [{ data: item.examples.slice(0, 1), nextCursor: null }] } : {},
  );

export const IdParams = Type.Object({
  id: Type.String({ format: 'uuid', examples: ['01907c4e-2f1a-7b3c-8d4e-5f6a7b8c9d01'] }),
});
