import type { Db } from '../db/index.js';
import { badRequest, conflict, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page, type PageQuery } from '../lib/pagination.js';
import type { EnqueueLogger, Queues } from '../queues/producer.js';
import { wakeEndpoint, wakeFanout } from '../queues/webhooks.js';
import * as repo from './endpoints.repository.js';
import { EVENT_TYPES, eventFeed, type EventFeed } from './event-feed.js';
import { journalWebhook } from './journal.js';
import {
  MAX_DESCRIPTION,
  MAX_ENDPOINTS_PER_WORKSPACE,
  type CreatedWebhookEndpoint,
  type NewWebhookBody,
  type WebhookEndpoint,
  type WebhookPatchBody,
} from '../api/webhooks.js';
import { newSigningSecret, sealSecret } from './secrets.js';
import { checkEndpointUrl, parseEndpointUrl, type Lookup, type UrlPolicy } from './url-safety.js';

export interface WebhookDeps {
  db: Db;
  policy: UrlPolicy;
  queues: Queues;
  log: EnqueueLogger;
  feed?: EventFeed;
  lookup?: Lookup;
}

export const toEndpoint = (r: repo.EndpointRecord): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  events: r.event_types as WebhookEndpoint['events'],
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: r.disabled_at?.toISOString() ?? null,
  failingSince: r.failing_since?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const notFoundError = () =>
  notFound(
    'webhook_not_found',
    'No webhook endpoint with this id in this workspace; list them with GET /v1/webhooks.',
  );

const known = new Set<string>(EVENT_TYPES);

/** The event types, checked: each known, none twice, at least one. */
function checkedEvents(events: unknown): string[] {
  if (!Array.isArray(events))
    throw badRequest('invalid_events', 'events must be an array of event types.', { field: 'events' });
  if (events.length === 0)
    throw badRequest(
      'no_event_types',
      `events must name at least one event type: ${EVENT_TYPES.join(', ')}.`,
      {
        field: 'events',
      },
    );
  const seen = new Set<string>();
  for (const event of events) {
    if (typeof event !== 'string' || !known.has(event))
      throw badRequest(
        'unknown_event_type',
        `${JSON.stringify(event)} is not an event type; use one of ${EVENT_TYPES.join(', ')}.`,
        { field: 'events', value: event },
      );
    if (seen.has(event))
      throw badRequest('duplicate_event_type', `events names ${event} twice.`, {
        field: 'events',
        value: event,
      });
    seen.add(event);
  }
  return EVENT_TYPES.filter((t) => seen.has(t));
}

const checkedDescription = (description: string | null | undefined): string | null => {
  const trimmed = description?.trim() ?? '';
  if (trimmed.length > MAX_DESCRIPTION)
    throw badRequest('description_too_long', `description is longer than ${MAX_DESCRIPTION} characters.`, {
      field: 'description',
    });
  return trimmed === '' ? null : trimmed;
};

/**
 * When the body schema refused a body: a sharper error for the fields whose problems people make (an
 * unknown event type, a URL that is not https), so the answer names the problem. Returns when it finds
 * none; the caller then answers with the schema's error.
 */
export function explainBody(body: unknown, policy: UrlPolicy): void {
  if (typeof body !== 'object' || body === null) return;
  const { url, events } = body as { url?: unknown; events?: unknown };
  if (typeof url === 'string') parseEndpointUrl(url, policy);
  if (events !== undefined) checkedEvents(events);
}

export async function createEndpoint(
  deps: WebhookDeps,
  workspaceId: string,
  actor: string,
  body: NewWebhookBody,
): Promise<CreatedWebhookEndpoint> {
  const events = checkedEvents(body.events);
  const description = checkedDescription(body.description);
  const url = await checkEndpointUrl(body.url, deps.policy, deps.lookup);
  const id = newId();
  const secret = newSigningSecret();
  const sealed = sealSecret(id, secret);
  const feed = deps.feed ?? eventFeed;
  const row = await deps.db.transaction().execute(async (tx) => {
    // One creation at a time per workspace, so the cap holds under concurrent requests.
    await repo.lockWorkspaceEndpoints(tx, workspaceId);
    if ((await repo.countEndpoints(tx, workspaceId)) >= MAX_ENDPOINTS_PER_WORKSPACE)
      throw conflict(
        'too_many_webhooks',
        `A workspace can have ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints; delete one first.`,
      );
    const inserted = await repo.insertEndpoint(tx, {
      workspace_id: workspaceId,
      id,
      url,
      description,
      event_types: events,
      secret_ciphertext: sealed.ciphertext,
      secret_key_id: sealed.keyId,
      // From now on, not history: the feed's position at creation.
      feed_cursor: await feed.latestCursor(tx, workspaceId),
      created_by: actor,
    });
    await journalWebhook(tx, workspaceId, actor, {
      action: 'webhook.created',
      id,
      changes: {
        url: { from: null, to: url },
        events: { from: null, to: events },
        description: { from: null, to: description },
      },
    });
    return inserted;
  });
  return { ...toEndpoint(row), secret };
}

export async function listEndpoints(
  db: Db,
  workspaceId: string,
  query: PageQuery,
): Promise<Page<WebhookEndpoint>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['uuid']);
  const rows = await repo.listEndpoints(db, workspaceId, limit + 1, cursor?.[0] as string | undefined);
  return toPage(rows, limit, (r) => [r.id], toEndpoint);
}

export async function getEndpoint(db: Db, workspaceId: string, id: string): Promise<WebhookEndpoint> {
  const row = await repo.findEndpoint(db, workspaceId, id);
  if (!row) throw notFoundError();
  return toEndpoint(row);
}

export async function updateEndpoint(
  deps: WebhookDeps,
  workspaceId: string,
  id: string,
  actor: string,
  body: WebhookPatchBody,
): Promise<WebhookEndpoint> {
  const changes: repo.EndpointChanges = {};
  if (body.events !== undefined) changes.event_types = checkedEvents(body.events);
  if (body.description !== undefined) changes.description = checkedDescription(body.description);
  if (body.url !== undefined) changes.url = await checkEndpointUrl(body.url, deps.policy, deps.lookup);
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  const { before, after } = await deps.db.transaction().execute(async (tx) => {
    const found = await repo.findEndpoint(tx, workspaceId, id, { lock: true });
    if (!found) throw notFoundError();
    // Enabling an enabled endpoint changes nothing (its failure record stays).
    if (changes.enabled === found.enabled) delete changes.enabled;
    const updated = (await repo.updateEndpoint(tx, workspaceId, id, changes)) ?? found;
    await journalWebhook(tx, workspaceId, actor, {
      action: 'webhook.updated',
      id,
      changes: {
        url: { from: found.url, to: updated.url },
        events: { from: found.event_types, to: updated.event_types },
        description: { from: found.description, to: updated.description },
        enabled: { from: found.enabled, to: updated.enabled },
      },
    });
    return { before: found, after: updated };
  });
  if (after.enabled && !before.enabled) {
    // Back on: what waited while it was off goes out now.
    await wakeFanout(deps.queues, deps.log, workspaceId);
    await wakeEndpoint(deps.queues, deps.log, workspaceId, id);
  }
  return toEndpoint(after);
}

export async function deleteEndpoint(db: Db, workspaceId: string, id: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const found = await repo.findEndpoint(tx, workspaceId, id, { lock: true });
    if (!found) throw notFoundError();
    await repo.deleteEndpoint(tx, workspaceId, id);
    await journalWebhook(tx, workspaceId, actor, {
      action: 'webhook.deleted',
      id,
      changes: { url: { from: found.url, to: null }, events: { from: found.event_types, to: null } },
    });
  });
}
