import type { Db } from '../db/index.js';
import { newId } from '../lib/ids.js';
import { insertDeliveries } from './deliveries.repository.js';
import { advanceCursor, enabledEndpointIds, lockForFanout } from './endpoint-state.repository.js';
import { EVENT_TYPES, type EventFeed, type EventType } from './event-feed.js';

/** Events read per endpoint per run; a longer backlog continues in the next run, behind other workspaces. */
export const FANOUT_SLICE = 500;

export interface FanoutResult {
  /** Endpoints that received new deliveries: their delivery runs are due. */
  endpoints: string[];
  deliveries: number;
  /** Some endpoint has more events waiting: the caller enqueues another run. */
  more: boolean;
}

const known = new Set<string>(EVENT_TYPES);

/**
 * Turns a workspace's new events into deliveries, endpoint by endpoint: in one transaction under the
 * endpoint's lock, the events after its cursor that it subscribes to become deliveries (one per event:
 * a run repeated after a crash adds nothing) and the cursor moves past them. The events feed is the
 * outbox; this is its reader.
 */
export async function fanOut(
  deps: { db: Db; feed: EventFeed; slice?: number },
  workspaceId: string,
): Promise<FanoutResult> {
  const slice = deps.slice ?? FANOUT_SLICE;
  const result: FanoutResult = { endpoints: [], deliveries: 0, more: false };
  for (const endpointId of await enabledEndpointIds(deps.db, workspaceId)) {
    const step = await deps.db.transaction().execute(async (tx) => {
      const endpoint = await lockForFanout(tx, workspaceId, endpointId);
      if (!endpoint) return { inserted: 0, more: false };
      const types = endpoint.event_types.filter((t): t is EventType => known.has(t));
      const { events, next } = await deps.feed.readEvents(tx, workspaceId, {
        ...(endpoint.feed_cursor === null ? {} : { after: endpoint.feed_cursor }),
        types,
        limit: slice,
      });
      const wanted = events.filter((e) => types.includes(e.type));
      const inserted = await insertDeliveries(
        tx,
        workspaceId,
        endpointId,
        wanted.map((e) => ({ id: newId(), event_id: e.id, event_type: e.type })),
      );
      const cursor = next ?? endpoint.feed_cursor;
      if (cursor !== endpoint.feed_cursor || inserted > 0)
        await advanceCursor(tx, workspaceId, endpointId, cursor, inserted > 0);
      return { inserted, more: events.length >= slice && cursor !== endpoint.feed_cursor };
    });
    if (step.inserted > 0) result.endpoints.push(endpointId);
    result.deliveries += step.inserted;
    result.more ||= step.more;
  }
  return result;
}
