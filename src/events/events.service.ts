import type { DbOrTx } from '../db/index.js';
import { isUuid } from '../lib/ids.js';
import { uuidv7Floor } from '../users/audit.repository.js';
import { comparePositions, decodeCursor, encodeCursor, type Position } from './cursor.js';
import { eventData } from './data.service.js';
import * as repo from './events.repository.js';
import { actionsOf, TYPE_OF_ACTION, type EventJson, type EventType } from './types.js';

/** Events are kept in the feed this long (the journal itself is kept AUDIT_RETENTION_DAYS). */
export const FEED_DAYS = 30;
/** Journal entries looked at per read, per event asked for: a rare type never makes one read long. */
const SCAN_PER_EVENT = 10;
const MIN_SCAN = 1_000;

export interface Feed {
  events: EventJson[];
  /** Where the next read starts: after the last event returned, or the last entry looked at. */
  next: Position | null;
  /** More is readable now: the page is full, or the read stopped at its scan bound. */
  hasMore: boolean;
  /** Events after `after` fell out of the window before this read: the reader missed them. */
  expired: boolean;
}

async function toEvents(db: DbOrTx, workspaceId: string, rows: repo.EventRow[]): Promise<EventJson[]> {
  const data = await eventData(db, workspaceId, rows);
  return rows.map((r, i) => ({
    id: r.id,
    type: TYPE_OF_ACTION.get(r.action)!,
    timestamp: r.created_at.toISOString(),
    workspaceId,
    data: data[i]!,
  }));
}

/**
 * The events after `after` in commit order: by (writing transaction, id), only below the snapshot's
 * xmin. Every transaction below xmin has finished, and one that commits later has an id at or above
 * it, so a reader that moved past a position never misses an event committed afterwards. A cursor older
 * than the window continues at the window's start, with `expired` set when events were passed over.
 */
export async function readFeed(
  db: DbOrTx,
  workspaceId: string,
  opts: { after?: Position; types?: readonly EventType[]; limit: number },
): Promise<Feed> {
  // In a transaction of the caller's, its planner settings are left as they are.
  if (!db.isTransaction) {
    return db.transaction().execute(async (tx) => {
      await repo.preferIndexOrder(tx);
      return readFeed(tx, workspaceId, opts);
    });
  }
  const actions = actionsOf(opts.types);
  const limit = Math.max(1, Math.min(1000, Math.floor(opts.limit)));
  const since = new Date(Date.now() - FEED_DAYS * 86_400_000);
  const { xmin, start } = await repo.feedBounds(db, workspaceId, uuidv7Floor(since));
  const { after } = opts;
  const stay: Feed = { events: [], next: after ?? null, hasMore: false, expired: false };
  if (!start) {
    // Nothing in the window: whatever lies after the cursor is older than it.
    if (after) stay.expired = await repo.anyEventBetween(db, workspaceId, after, undefined, xmin, actions);
    return stay;
  }
  let from: repo.From = { ...start, inclusive: true };
  let expired = false;
  if (after && comparePositions(after, start) >= 0) from = { ...after, inclusive: false };
  else if (after) expired = await repo.anyEventBetween(db, workspaceId, after, start, xmin, actions);

  const scan = Math.max(MIN_SCAN, limit * SCAN_PER_EVENT);
  const rows = await repo.eventsFrom(db, workspaceId, from, xmin, { actions, since }, scan, limit + 1);
  if (rows.length > limit) {
    const page = rows.slice(0, limit);
    const last = page[page.length - 1]!;
    return {
      events: await toEvents(db, workspaceId, page),
      next: { tx: last.tx, id: last.id },
      hasMore: true,
      expired,
    };
  }
  const end = await repo.scanEnd(db, workspaceId, from, xmin, scan);
  return {
    events: await toEvents(db, workspaceId, rows),
    next: end ? { tx: end.tx, id: end.id } : (after ?? null),
    hasMore: end?.n === scan,
    expired,
  };
}

/**
 * Events after `after` (an opaque cursor string from a previous page, undefined = from the oldest
 * kept), in commit order, at most `limit`; `next` is the cursor to pass next time (always returned,
 * equal to `after` when nothing new), `types` filters.
 */
export async function readEvents(
  db: DbOrTx,
  workspaceId: string,
  opts: { after?: string; types?: readonly EventType[]; limit: number },
): Promise<{ events: EventJson[]; next: string | null }> {
  const after = opts.after ? decodeCursor(opts.after) : undefined;
  const feed = await readFeed(db, workspaceId, { after, types: opts.types, limit: opts.limit });
  const moved = feed.next && (!after || comparePositions(feed.next, after) !== 0);
  return { events: feed.events, next: moved ? encodeCursor(feed.next!) : (opts.after ?? null) };
}

/** The cursor of the newest event already safe to read (for a new webhook endpoint to start "from now"); null when none. */
export async function latestCursor(db: DbOrTx, workspaceId: string): Promise<string | null> {
  const newest = await repo.newestPosition(db, workspaceId);
  return newest ? encodeCursor(newest) : null;
}

/** One event by id, or undefined. */
export async function findEvent(db: DbOrTx, workspaceId: string, id: string): Promise<EventJson | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await repo.eventById(db, workspaceId, id.toLowerCase(), actionsOf());
  return row ? (await toEvents(db, workspaceId, [row]))[0] : undefined;
}
