import { Type, type TSchema } from '@sinclair/typebox';

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

/** A string enum that OpenAPI shows as `enum` (a union of literals would be an anyOf of consts). */
export const StringEnum = <T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
