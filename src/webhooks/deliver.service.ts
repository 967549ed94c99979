import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../db/index.js';
import { claimNext, recordOutcome, type ClaimedDelivery } from './deliveries.repository.js';
import { finishRun, resealSecret, sendingState, type RunOutcome } from './endpoint-state.repository.js';
import type { EventFeed } from './event-feed.js';
import { journalWebhook } from './journal.js';
import { maxAttempts, retryDelayMs, type DeliveryPolicy } from './schedule.js';
import { openSecret, sealSecret } from './secrets.js';
import { postDelivery, type SendResult } from './sender.js';

/** Requests in flight at once to one endpoint. */
export const LANES = 5;
/**
 * A run stops taking deliveries after this many (or after the policy's runWallMs), and the endpoint goes
 * to the back of the queue: a worker slot is held at most that long plus one attempt's timeout.
 */
export const RUN_MAX_DELIVERIES = 100;
/** A claimed delivery is leased for the attempt's timeout and this margin. */
const LEASE_MARGIN_MS = 20_000;

export interface DeliverDeps {
  db: Db;
  feed: EventFeed;
  policy: DeliveryPolicy;
  allowPrivateNetworks: boolean;
  logger: Logger;
  shouldStop?: () => boolean;
}

export interface RunResult {
  sent: number;
  succeeded: number;
  failed: number;
  /** Deliveries given up after this run's attempt (status failed). */
  gaveUp: number;
  /** A delivery of this endpoint is due now: the caller enqueues another run at the back of the queue. */
  more: boolean;
}

const USER_AGENT = 'Loopit-Webhooks/1.0 (+https://www.standardwebhooks.com/)';

/**
 * One run for one endpoint. Healthy, it sends up to LANES deliveries at once, until none is due or the
 * run has had its share; a failure stops it taking more (the endpoint may be down). Failing (its last
 * run only failed), it sends one delivery, a probe, and only once its pause is over; disabled, only
 * what a person asked for. Each outcome is written as soon as it is known, so a crash repeats at most
 * the deliveries in flight, with the same webhook-id.
 */
export async function deliverRun(
  deps: DeliverDeps,
  workspaceId: string,
  endpointId: string,
): Promise<RunResult> {
  const { db, policy, logger } = deps;
  const result: RunResult = { sent: 0, succeeded: 0, failed: 0, gaveUp: 0, more: false };
  const endpoint = await sendingState(db, workspaceId, endpointId);
  if (!endpoint) return result;
  const healthy = endpoint.enabled && endpoint.failure_streak === 0;
  const which = endpoint.enabled && endpoint.gate_open ? 'any' : 'manual';
  const lanes = healthy ? LANES : 1;
  const budget = healthy ? RUN_MAX_DELIVERIES : 1;
  const leaseMs = policy.timeoutMs + LEASE_MARGIN_MS;
  const secret = await signingSecret(db, workspaceId, endpointId, endpoint, logger);
  const started = Date.now();
  let taken = 0;
  let autoFailed = 0;
  let stop = false;

  const attempt = async (delivery: ClaimedDelivery): Promise<void> => {
    const limit = maxAttempts(policy.retryScheduleMs);
    // Leased again and again: the worker sending it keeps dying (or it kills the worker).
    const outcome: SendResult =
      !delivery.manual && delivery.attempts > limit + 2
        ? { error: `not sent: the worker sending it stopped ${delivery.attempts - 1} times` }
        : await send(deps, workspaceId, endpoint.url, secret, delivery);
    const ok = outcome.error === undefined;
    const final = delivery.manual || delivery.attempts >= limit;
    const retryInMs = ok || final ? null : retryDelayMs(delivery.attempts, policy.retryScheduleMs);
    await recordOutcome(db, delivery.id, {
      status: ok ? 'succeeded' : retryInMs === null ? 'failed' : 'pending',
      responseStatus: outcome.status ?? null,
      error: outcome.error ?? null,
      ...(retryInMs === null ? {} : { retryInMs }),
    });
    result.sent += 1;
    if (ok) result.succeeded += 1;
    else result.failed += 1;
    if (!ok && retryInMs === null) result.gaveUp += 1;
    if (!ok && !delivery.manual) autoFailed += 1;
    if (!ok) stop = true;
  };

  const lane = async (): Promise<void> => {
    while (!stop && taken < budget && Date.now() - started < policy.runWallMs && !deps.shouldStop?.()) {
      taken += 1;
      const delivery = await claimNext(db, endpointId, which, leaseMs);
      if (!delivery) return;
      await attempt(delivery);
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    // Any answer in 2xx shows the endpoint works; a person's test that fails does not count against it.
    const outcome: RunOutcome = result.succeeded > 0 ? 'succeeded' : autoFailed > 0 ? 'failed' : 'none';
    const finished = await db
      .transaction()
      .execute((tx) => finishRun(tx, workspaceId, endpointId, outcome, policy));
    if (finished?.disabled) {
      logger.warn(
        { workspaceId, endpointId },
        'webhook endpoint disabled: it failed every attempt for 5 days',
      );
      await journalWebhook(db, workspaceId, 'system', {
        action: 'webhook.disabled',
        id: endpointId,
        changes: { enabled: { from: true, to: false } },
        details: { reason: 'failing' },
        source: 'webhooks',
      });
    }
    result.more = finished?.nextDueAt != null && finished.nextDueAt.getTime() <= Date.now();
  }
  if (result.sent > 0) logger.info({ workspaceId, endpointId, ...result }, 'webhook deliveries sent');
  return result;
}

/** The endpoint's signing secret; sealed again under the current key when the previous one opened it. */
async function signingSecret(
  db: Db,
  workspaceId: string,
  endpointId: string,
  endpoint: { secret_ciphertext: Buffer; secret_key_id: string },
  logger: Logger,
): Promise<string | undefined> {
  const opened = openSecret(endpointId, {
    ciphertext: endpoint.secret_ciphertext,
    keyId: endpoint.secret_key_id,
  });
  if (!opened) {
    logger.error(
      { workspaceId, endpointId },
      'webhook signing secret cannot be opened with INVITATION_SECRET or INVITATION_SECRET_PREVIOUS',
    );
    return undefined;
  }
  if (opened.stale) await resealSecret(db, workspaceId, endpointId, sealSecret(endpointId, opened.secret));
  return opened.secret;
}

async function send(
  deps: DeliverDeps,
  workspaceId: string,
  url: string,
  secret: string | undefined,
  delivery: ClaimedDelivery,
): Promise<SendResult> {
  if (secret === undefined)
    return {
      error:
        'not sent: the signing secret cannot be opened (INVITATION_SECRET changed without INVITATION_SECRET_PREVIOUS); delete the endpoint and add it again',
    };
  const event = delivery.payload ?? (await deps.feed.findEvent(deps.db, workspaceId, delivery.event_id));
  if (!event) return { error: 'not sent: the event is no longer kept (events are kept 30 days)' };
  const body = JSON.stringify(event);
  const timestamp = new Date();
  return postDelivery(
    url,
    {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.event_id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(delivery.event_id, timestamp, body),
    },
    body,
    { timeoutMs: deps.policy.timeoutMs, allowPrivateNetworks: deps.allowPrivateNetworks },
  );
}
