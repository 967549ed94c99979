import { badRequest } from './errors.js';
import { isUuid } from './ids.js';
import { unstorableText } from './text.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export interface PageQuery {
  limit?: string | number;
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export function parseLimit(raw: string | number | undefined, fallback = DEFAULT_LIMIT): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_LIMIT ||
    (typeof raw === 'string' && !/^\d+$/.test(raw))
  ) {
    throw badRequest('invalid_limit', `limit must be an integer from 1 to ${MAX_LIMIT}; got '${raw}'.`);
  }
  return value;
}

/** Cursors are opaque to callers: base64url JSON of the sort key of the last row returned. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What each place of a cursor holds, as the column it is compared with: a `uuid`, an `int` (Postgres
 * `integer`), or `text` (no NUL or half surrogate pair, which Postgres cannot compare). A cursor that
 * does not fit is 400 `invalid_cursor`, never a query that fails.
 */
export type CursorPart = 'uuid' | 'int' | 'text';

const INT_MAX = 2_147_483_647;
/** Longer than any key a page ends on (names are at most 200 characters). */
const MAX_CURSOR_CHARS = 4_096;

const fits: Record<CursorPart, (value: unknown) => boolean> = {
  uuid: (v) => typeof v === 'string' && isUuid(v),
  int: (v) => Number.isInteger(v) && Math.abs(v as number) <= INT_MAX,
  text: (v) => typeof v === 'string' && unstorableText(v) === undefined,
};

export function decodeCursor(raw: string | undefined, shape: CursorPart[]): unknown[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    if (raw.length <= MAX_CURSOR_CHARS)
      parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== shape.length ||
    parsed.some((v, i) => !fits[shape[i]!](v))
  ) {
    throw badRequest(
      'invalid_cursor',
      'cursor is not valid; pass the nextCursor of a previous page unchanged.',
    );
  }
  return parsed as unknown[];
}

/** Fetch limit + 1 rows; this trims the extra one and builds the next cursor from the last row kept. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  key: (row: R) => unknown[],
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
