import type { Db } from '../db/index.js';
import { conflict, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../lib/pagination.js';
import type { EnqueueLogger, Queues } from '../queues/producer.js';
import { wakeEndpoint } from '../queues/webhooks.js';
import * as repo from './deliveries.repository.js';
import { findEndpoint, markDue, type EndpointRecord } from './endpoints.repository.js';
import { TEST_EVENT_TYPE, type Delivery, type DeliveryQuery } from '../api/webhooks.js';

export interface DeliveryDeps {
  db: Db;
  queues: Queues;
  log: EnqueueLogger;
}

const endpointNotFound = () =>
  notFound(
    'webhook_not_found',
    'No webhook endpoint with this id in this workspace; list them with GET /v1/webhooks.',
  );
const deliveryNotFound = () =>
  notFound(
    'delivery_not_found',
    'This endpoint has no delivery with this id; list them with GET /v1/webhooks/:id/deliveries.',
  );

/**
 * When a pending delivery is tried next, as the worker will see it: a manual one (a test, a retry by
 * hand) at its time; the others not while the endpoint is disabled, nor before a failing endpoint's
 * pause ends.
 */
function nextAttemptAt(d: repo.DeliveryRecord, endpoint: EndpointRecord): string | null {
  if (d.status !== 'pending' || d.next_attempt_at === null) return null;
  if (d.manual) return d.next_attempt_at.toISOString();
  if (!endpoint.enabled) return null;
  const pause = endpoint.failure_streak > 0 ? endpoint.paused_until : null;
  return (pause && pause > d.next_attempt_at ? pause : d.next_attempt_at).toISOString();
}

export const toDelivery = (d: repo.DeliveryRecord, endpoint: EndpointRecord): Delivery => ({
  id: d.id,
  eventId: d.event_id,
  eventType: d.event_type,
  status: d.status,
  attempts: d.attempts,
  lastResponseStatus: d.last_response_status,
  lastError: d.last_error,
  lastAttemptAt: d.last_attempt_at?.toISOString() ?? null,
  nextAttemptAt: nextAttemptAt(d, endpoint),
  createdAt: d.created_at.toISOString(),
});

async function endpointOf(db: Db, workspaceId: string, id: string): Promise<EndpointRecord> {
  const endpoint = await findEndpoint(db, workspaceId, id);
  if (!endpoint) throw endpointNotFound();
  return endpoint;
}

export async function listDeliveries(
  db: Db,
  workspaceId: string,
  endpointId: string,
  query: DeliveryQuery,
): Promise<Page<Delivery>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['uuid']);
  const endpoint = await endpointOf(db, workspaceId, endpointId);
  const rows = await repo.listDeliveries(
    db,
    workspaceId,
    endpointId,
    {
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { beforeId: cursor[0] as string } : {}),
    },
    limit + 1,
  );
  return toPage(
    rows,
    limit,
    (r) => [r.id],
    (r) => toDelivery(r, endpoint),
  );
}

/** A failed delivery is sent once more, now, even while the endpoint is failing or disabled. */
export async function retryDelivery(
  deps: DeliveryDeps,
  workspaceId: string,
  endpointId: string,
  deliveryId: string,
): Promise<Delivery> {
  const { endpoint, row } = await deps.db.transaction().execute(async (tx) => {
    const found = await findEndpoint(tx, workspaceId, endpointId);
    if (!found) throw endpointNotFound();
    const delivery = await repo.findDelivery(tx, workspaceId, endpointId, deliveryId);
    if (!delivery) throw deliveryNotFound();
    const retried = await repo.retryByHand(tx, workspaceId, endpointId, deliveryId);
    if (!retried)
      throw conflict(
        'delivery_not_failed',
        `This delivery is ${delivery.status}: only a failed delivery can be retried (a pending one is already on its way).`,
        { status: delivery.status },
      );
    await markDue(tx, workspaceId, endpointId);
    return { endpoint: found, row: retried };
  });
  await wakeEndpoint(deps.queues, deps.log, workspaceId, endpointId);
  return toDelivery(row, endpoint);
}

/**
 * A test delivery (event type webhook.test), signed like any other, sent once, now, even while the
 * endpoint is disabled; its outcome shows in the delivery log.
 */
export async function sendTest(
  deps: DeliveryDeps,
  workspaceId: string,
  endpointId: string,
): Promise<Delivery> {
  const eventId = newId();
  const { endpoint, row } = await deps.db.transaction().execute(async (tx) => {
    const found = await findEndpoint(tx, workspaceId, endpointId);
    if (!found) throw endpointNotFound();
    const inserted = await repo.insertTestDelivery(tx, {
      workspace_id: workspaceId,
      id: newId(),
      endpoint_id: endpointId,
      event_id: eventId,
      payload: {
        id: eventId,
        type: TEST_EVENT_TYPE,
        timestamp: new Date().toISOString(),
        workspaceId,
        data: { endpointId, message: 'A test delivery from Loopit Provision.' },
      },
    });
    await markDue(tx, workspaceId, endpointId);
    return { endpoint: found, row: inserted };
  });
  await wakeEndpoint(deps.queues, deps.log, workspaceId, endpointId);
  return toDelivery(row, endpoint);
}
