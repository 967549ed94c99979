import { createHash, createHmac } from 'node:crypto';
import type { DbOrTx } from '../db/index.js';
import { loadSecret } from './secrets.repository.js';

/**
 * An invitation token is HMAC-SHA256(secret, invitation id), base64url: unguessable without the secret,
 * and rebuildable by the e-mail drain from the invitation id, so Postgres stores only its SHA-256.
 * Resending creates a new invitation (new id), hence a new token.
 */
export const INVITATION_SECRET = 'invitation-token-v1';

let cached: Promise<Buffer> | undefined;

/** The secret, loaded once per process. */
export function invitationSecret(db: DbOrTx): Promise<Buffer> {
  cached ??= loadSecret(db, INVITATION_SECRET).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

export const invitationToken = (secret: Buffer, invitationId: string): string =>
  createHmac('sha256', secret).update(invitationId).digest('base64url');

export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Accept links: PUBLIC_URL/invitations/accept?token=... */
export const acceptLink = (publicUrl: string, token: string): string =>
  `${publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`;

/** A stable Message-ID per invitation, so a re-sent message is recognisably the same one. */
export const invitationMessageId = (publicUrl: string, invitationId: string): string =>
  `<invitation-${invitationId}@${new URL(publicUrl).hostname || 'loopit-provision'}>`;
