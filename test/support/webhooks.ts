import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { newId } from '../../src/lib/ids.js';
import { insertAuditEvents } from '../../src/provisioning/users.repository.js';
import type { EventFeed, EventJson, EventType } from '../../src/webhooks/event-feed.js';
import { call } from './context.js';
import { waitFor } from './processes.js';

/**
 * An events feed in memory, for the workers of a test: events are pushed by the test, cursors are
 * positions in a workspace's list. Emitting also writes an audit row, so the trigger on audit_events
 * notifies the workers as a real change would.
 */
export function memoryFeed() {
  const lists = new Map<string, EventJson[]>();
  const list = (workspaceId: string) => {
    let l = lists.get(workspaceId);
    if (!l) lists.set(workspaceId, (l = []));
    return l;
  };
  const feed: EventFeed = {
    readEvents(_db, workspaceId, opts) {
      const events = list(workspaceId);
      const start = opts.after === undefined ? 0 : Number(opts.after);
      const out: EventJson[] = [];
      let i = start;
      for (; i < events.length && out.length < opts.limit; i++)
        if (!opts.types || opts.types.includes(events[i]!.type)) out.push(events[i]!);
      return Promise.resolve({ events: out, next: String(i) });
    },
    latestCursor: (_db, workspaceId) => Promise.resolve(String(list(workspaceId).length)),
    findEvent: (_db, workspaceId, id) => Promise.resolve(list(workspaceId).find((e) => e.id === id)),
  };
  return {
    feed,
    /** Adds `count` events of `type` to the workspace's feed and commits an audit row (the wake-up). */
    async emit(
      db: Db,
      workspaceId: string,
      type: EventType = 'user.created',
      count = 1,
    ): Promise<EventJson[]> {
      const made: EventJson[] = [];
      for (let i = 0; i < count; i++) {
        const event: EventJson = {
          id: newId(),
          type,
          timestamp: new Date().toISOString(),
          workspaceId,
          data: { id: newId(), email: `person-${list(workspaceId).length}@example.com` },
        };
        list(workspaceId).push(event);
        made.push(event);
      }
      await insertAuditEvents(db, workspaceId, 'test', 'api', [
        {
          id: newId(),
          action: 'test.event',
          user_id: null,
          target_type: 'test',
          target_id: null,
          changes: null,
          details: null,
        },
      ]);
      return made;
    },
  };
}

export async function addEndpoint(
  app: FastifyInstance,
  token: string,
  url: string,
  events: EventType[] = ['user.created'],
): Promise<{ id: string; secret: string }> {
  const res = await call(app, 'POST', '/v1/webhooks', { token, body: { url, events } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string };
}

export async function deliveriesOf(app: FastifyInstance, token: string, endpointId: string) {
  const res = await call(app, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=1000`, { token });
  expect(res.status).toBe(200);
  return res.body.data as {
    id: string;
    eventId: string;
    eventType: string;
    status: string;
    attempts: number;
    lastResponseStatus: number | null;
    lastError: string | null;
    nextAttemptAt: string | null;
  }[];
}

/** Waits until `check` holds for the endpoint's deliveries; says what they were when it times out. */
export async function untilDeliveries(
  app: FastifyInstance,
  token: string,
  endpointId: string,
  check: (deliveries: Awaited<ReturnType<typeof deliveriesOf>>) => boolean,
  timeoutMs = 20_000,
) {
  let last: Awaited<ReturnType<typeof deliveriesOf>> = [];
  await waitFor(async () => check((last = await deliveriesOf(app, token, endpointId))), timeoutMs).catch(
    () => {
      throw new Error(`deliveries never matched: ${JSON.stringify(last.slice(0, 5))}`);
    },
  );
  return last;
}
