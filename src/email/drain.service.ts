import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DbOrTx } from '../db/index.js';
import {
  acceptLink,
  invitationMessageId,
  invitationSecret,
  invitationToken,
} from '../provisioning/invitation-tokens.js';
import {
  claimSlice,
  hasQueued,
  markFailed,
  markSent,
  release,
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

export interface DrainDeps {
  db: DbOrTx;
  mailer: Mailer;
  config: Pick<Config, 'publicUrl' | 'mailFrom'>;
  logger: Logger;
  /** Checked between messages: shutdown hands the rest of the slice back. */
  shouldStop?: () => boolean;
  sliceWallMs?: number;
}

export interface DrainResult {
  sent: number;
  failed: number;
  /** Queued rows remain for this workspace: the caller enqueues the next slice. */
  more: boolean;
}

/**
 * Sends one slice of a workspace's queued invitations, one message at a time, each marked 'sent' as
 * soon as the server accepted it: a crash can re-send only the message in flight, with the same
 * Message-ID. A transient failure hands the rest back and throws, so that the job retries with
 * backoff.
 */
export async function drainSlice(deps: DrainDeps, workspaceId: string, max: number): Promise<DrainResult> {
  const { db, logger } = deps;
  const started = Date.now();
  const wallMs = deps.sliceWallMs ?? SLICE_WALL_MS;
  // Before the claim: a failure here must not leave rows leased.
  const secret = await invitationSecret(db);
  const slice = await claimSlice(db, workspaceId, max);
  let sent = 0;
  let failed = 0;
  let next = 0;
  try {
    for (; next < slice.length; next++) {
      if (Date.now() - started > wallMs || deps.shouldStop?.()) break;
      const row = slice[next]!;
      try {
        await deps.mailer.send(message(deps.config, row, invitationToken(secret, row.id)));
      } catch (err) {
        const error = describeError(err);
        if (isPermanent(err)) {
          await markFailed(db, workspaceId, row.id, error);
          failed += 1;
          logger.warn({ invitationId: row.id, error }, 'invitation e-mail refused for good');
          continue;
        }
        next += 1; // the rest of the slice is handed back below
        if (isTransientForMessage(err)) await retryLater(db, workspaceId, row.id, error, MAX_SEND_ATTEMPTS);
        else await release(db, workspaceId, [row.id], error);
        throw err;
      }
      await markSent(db, workspaceId, row.id);
      sent += 1;
    }
  } finally {
    const rest = slice.slice(next).map((r) => r.id);
    if (rest.length > 0) {
      // The failure that ended the slice may have killed the pool's other connections too (a Postgres
      // restart or terminated backends): two more tries, each on another connection. If all fail, the
      // lease expires and the sweeper puts them back.
      const handBack = () => release(db, workspaceId, rest);
      await handBack()
        .catch(handBack)
        .catch(handBack)
        .catch((err: unknown) =>
          logger.warn({ err, count: rest.length }, 'could not hand back the rest of a slice'),
        );
    }
  }
  const more = await hasQueued(db, workspaceId);
  if (sent + failed > 0) logger.info({ workspaceId, sent, failed, more }, 'invitation e-mails sent');
  return { sent, failed, more };
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
