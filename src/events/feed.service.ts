import type { Db } from '../db/index.js';
import { AppError, badRequest } from '../lib/errors.js';
import { parseLimit } from '../lib/pagination.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { FEED_DAYS, readFeed } from './events.service.js';
import { EVENT_TYPES, isEventType, type EventJson, type EventType } from './types.js';

/** The feed's page size when `limit` is not given (1–1000, as every list). */
export const FEED_DEFAULT_LIMIT = 100;

export interface EventsPage {
  data: EventJson[];
  next: string | null;
  hasMore: boolean;
}

/** `types`: comma-separated event types; an unknown one is 400 `unknown_event_type` naming it. */
export function parseTypes(raw: string | undefined): EventType[] | undefined {
  if (raw === undefined) return undefined;
  const given = raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const unknown = given.filter((t) => !isEventType(t));
  if (unknown.length > 0) {
    throw badRequest(
      'unknown_event_type',
      `Unknown event type ${unknown.map((t) => `'${t}'`).join(', ')}; the types are ${EVENT_TYPES.join(', ')}.`,
      { field: 'types', types: unknown },
    );
  }
  return given.length > 0 ? (given as EventType[]) : undefined;
}

/** GET /v1/events: one page of the feed; 410 `cursor_expired` when the reader missed events. */
export async function listEvents(
  db: Db,
  workspaceId: string,
  query: { after?: string; types?: string; limit?: string },
): Promise<EventsPage> {
  const limit = parseLimit(query.limit, FEED_DEFAULT_LIMIT);
  const types = parseTypes(query.types);
  const after = query.after ? decodeCursor(query.after) : undefined;
  const feed = await readFeed(db, workspaceId, { after, types, limit });
  if (feed.expired) {
    throw new AppError(
      410,
      'cursor_expired',
      `Events after this cursor are older than ${FEED_DAYS} days and no longer in the feed. Read again without after (from the oldest event kept), and bring your copy up to date with GET /v1/users.`,
    );
  }
  return {
    data: feed.events,
    next: feed.next ? encodeCursor(feed.next) : null,
    hasMore: feed.hasMore,
  };
}
