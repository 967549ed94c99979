import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import {
  acceptLink,
  invitationKeys,
  invitationMessageId,
  invitationToken,
} from '../provisioning/invitation-tokens.js';
import {
  claimSlice,
  hasQueued,
  markFailed,
  markSent,
  nextLeaseExpiry,
  release,
  stillSendable,
  renewLeases,
  requeueStale,
  retryLater,
  type OutboxMessage,
} from './outbox.repository.js';
import { invitationEmail } from './templates.js';
import {
  describeError,
  isPermanent,
  isTransientForMessage,
  type Mailer,
  type MailMessage,
} from './transport.js';

/** A message refused transiently this many times is given up ('failed'). */
export const MAX_SEND_ATTEMPTS = 5;
/** A slice stops after this long and hands back what it did not get to, so a slow server cannot hog a job. */
export const SLICE_WALL_MS = 60_000;
/**
 * A slice's rows are leased this long and the lease is renewed every LEASE_RENEW_MS while the drain
 * holds them: the rows of a worker that died are free again within LEASE_MS, while a live worker keeps
 * them however slow its server is. Only an event loop blocked for longer could lose a live lease (its
 * messages may then go out twice, with the same Message-ID).
 */
export const LEASE_MS = 30_000;
export const LEASE_RENEW_MS = 10_000;

export interface DrainDeps {
  db: Db;
  mailer: Mailer;
  config: Pick<Config, 'publicUrl' | 'mailFrom'>;
  logger: Logger;
  /** Checked before each message is taken: shutdown hands the rest of the slice back. */
  shouldStop?: () => boolean;
  sliceWallMs?: number;
  /** Messages of the slice in flight at once (the SMTP pool's connections); 1 by default. */
  concurrency?: number;
  leaseMs?: number;
  leaseRenewMs?: number;
}

export interface DrainResult {
  sent: number;
  failed: number;
  /** Queued rows remain for this workspace: the caller enqueues the next slice. */
  more: boolean;
  /**
   * Nothing is queued, but another drain (perhaps a dead one) holds rows of this workspace: the caller
   * looks again after this many milliseconds, when their lease would run out.
   */
  retryInMs?: number;
}

/**
 * Sends one slice of a workspace's queued invitations, up to `concurrency` messages at a time, each
 * marked 'sent' as soon as the server accepted it: a crash can re-send only the messages in flight,
 * with the same Message-IDs. A transient failure stops the slice from taking more: the messages
 * already in flight finish and are recorded, the rest is handed back, and it throws, so that the job
 * retries with backoff.
 */
export async function drainSlice(deps: DrainDeps, workspaceId: string, max: number): Promise<DrainResult> {
  const { db, logger } = deps;
  const started = Date.now();
  const wallMs = deps.sliceWallMs ?? SLICE_WALL_MS;
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  // Before the claim: a failure here must not leave rows leased.
  const keys = invitationKeys();
  // A dead drain's rows go first (they are the oldest), without waiting for the sweeper.
  await requeueStale(db, leaseMs, { workspaceId, maxAttempts: MAX_SEND_ATTEMPTS });
  const slice = await claimSlice(db, workspaceId, max);
  let sent = 0;
  let failed = 0;
  let taken = 0;
  // Rows whose outcome is written (sent, failed, back to queued); the others are handed back below.
  const settled = new Set<number>();
  // The first error that ends the slice: no lane takes another message after it.
  let stop: { error: unknown } | undefined;

  const sendOne = async (i: number): Promise<void> => {
    const row = slice[i]!;
    // Revoked while it waited in the slice (its user deleted by a revert, say): not sent after all.
    if (!(await stillSendable(db, workspaceId, row.id))) {
      settled.add(i);
      return;
    }
    try {
      await deps.mailer.send(message(deps.config, row, invitationToken(keys.current, workspaceId, row.id)));
    } catch (err) {
      const error = describeError(err);
      if (isPermanent(err)) {
        await markFailed(db, workspaceId, row.id, error);
        settled.add(i);
        failed += 1;
        logger.warn({ invitationId: row.id, error }, 'invitation e-mail refused for good');
        return;
      }
      stop ??= { error: err };
      if (isTransientForMessage(err)) await retryLater(db, workspaceId, row.id, error, MAX_SEND_ATTEMPTS);
      else await release(db, workspaceId, [row.id], error);
      settled.add(i);
      return;
    }
    await markSent(db, workspaceId, row.id);
    settled.add(i);
    sent += 1;
  };
  // Each lane takes the next message when its last one is recorded. A lane never throws: a failure to
  // record an outcome (Postgres gone) ends the slice, and that row is handed back with the untaken ones.
  const lane = async (): Promise<void> => {
    while (!stop && taken < slice.length) {
      if (Date.now() - started > wallMs || deps.shouldStop?.()) return;
      const i = taken++;
      try {
        await sendOne(i);
      } catch (err) {
        stop ??= { error: err };
      }
    }
  };
  const unsettled = () => slice.filter((_, i) => !settled.has(i)).map((r) => r.id);
  let renewing: Promise<void> | undefined;
  const heartbeat = setInterval(() => {
    renewing ??= renewLeases(db, workspaceId, unsettled())
      .catch((err: unknown) => logger.warn({ err }, 'could not renew the leases of a slice'))
      .finally(() => {
        renewing = undefined;
      });
  }, deps.leaseRenewMs ?? LEASE_RENEW_MS);
  try {
    const lanes = Math.max(1, Math.min(deps.concurrency ?? 1, slice.length));
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    clearInterval(heartbeat);
    await renewing;
    const rest = unsettled();
    if (rest.length > 0) {
      // The failure that ended the slice may have killed the pool's other connections too (a Postgres
      // restart or terminated backends): two more tries, each on another connection. If all fail, the
      // lease expires and the next slice or the sweeper puts them back.
      const handBack = () => release(db, workspaceId, rest);
      await handBack()
        .catch(handBack)
        .catch(handBack)
        .catch((err: unknown) =>
          logger.warn({ err, count: rest.length }, 'could not hand back the rest of a slice'),
        );
    }
  }
  if (stop) throw stop.error;
  const more = await hasQueued(db, workspaceId);
  const retryInMs = more ? undefined : await nextLeaseExpiry(db, workspaceId, leaseMs);
  if (sent + failed > 0) logger.info({ workspaceId, sent, failed, more }, 'invitation e-mails sent');
  return { sent, failed, more, ...(retryInMs === undefined ? {} : { retryInMs }) };
}

function message(config: DrainDeps['config'], row: OutboxMessage, token: string): MailMessage {
  const link = acceptLink(config.publicUrl, token);
  const fullName = [row.givenName, row.familyName].filter(Boolean).join(' ');
  const rendered = invitationEmail({
    workspaceName: row.workspaceName,
    recipientName: row.displayName ?? (fullName || null),
    email: row.email,
    link,
    expiresAt: row.expiresAt,
  });
  return {
    to: row.email,
    from: config.mailFrom,
    ...rendered,
    messageId: invitationMessageId(config.publicUrl, row.id),
    link,
  };
}
