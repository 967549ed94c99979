import type { DbOrTx } from '../db/index.js';
import { preferIndexOrder } from '../events/events.repository.js';
import { findEvent, latestCursor, readEvents } from '../events/events.service.js';
import type { EventJson, EventType } from '../events/types.js';

export { EVENT_TYPES, type EventJson, type EventType } from '../events/types.js';

/**
 * The events feed as webhooks read it: the journal in commit order, gap-free, with opaque cursors
 * (src/events/events.service.ts). Webhooks take it through this one module, so that tests can hand the
 * workers another.
 */
export interface EventFeed {
  /** Events after `after` (absent: from the oldest kept), in commit order; `next` goes on from there. */
  readEvents(
    db: DbOrTx,
    workspaceId: string,
    opts: { after?: string; types?: readonly EventType[]; limit: number },
  ): Promise<{ events: EventJson[]; next: string | null }>;
  /** Where a reader that wants only what comes from now on starts. */
  latestCursor(db: DbOrTx, workspaceId: string): Promise<string | null>;
  findEvent(db: DbOrTx, workspaceId: string, id: string): Promise<EventJson | undefined>;
}

export const eventFeed: EventFeed = {
  async readEvents(db, workspaceId, opts) {
    // The fan-out reads inside its own transaction, where the feed leaves planner settings alone.
    if (db.isTransaction) await preferIndexOrder(db);
    return readEvents(db, workspaceId, opts);
  },
  latestCursor,
  findEvent,
};
