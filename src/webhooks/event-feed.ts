import type { DbOrTx } from '../db/index.js';

/**
 * The events feed as webhooks read it: the events journal in commit order, gap-free, with opaque
 * cursors. Webhooks take it through this one module, so that tests can hand the workers another.
 */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'invitation.accepted',
  'import.completed',
  'import.failed',
  'import.reverted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventJson {
  id: string;
  type: EventType;
  timestamp: string;
  workspaceId: string;
  data: Record<string, unknown>;
}

export interface EventFeed {
  /** Events after `after` (null or absent: from the start), in commit order; `next` continues from the last. */
  readEvents(
    db: DbOrTx,
    workspaceId: string,
    opts: { after?: string; types?: readonly EventType[]; limit: number },
  ): Promise<{ events: EventJson[]; next: string | null }>;
  /** Where a reader that wants only what comes from now on starts. */
  latestCursor(db: DbOrTx, workspaceId: string): Promise<string | null>;
  findEvent(db: DbOrTx, workspaceId: string, id: string): Promise<EventJson | undefined>;
}

/** The service's feed. Until the events journal is readable as a feed, it holds no events. */
export const eventFeed: EventFeed = {
  readEvents: () => Promise.resolve({ events: [], next: null }),
  latestCursor: () => Promise.resolve(null),
  findEvent: () => Promise.resolve(undefined),
};
