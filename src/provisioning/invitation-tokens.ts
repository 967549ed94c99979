import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../db/index.js';

/**
 * An invitation token is HMAC-SHA256(INVITATION_SECRET, invitation id), base64url: unguessable without
 * the secret, which lives in the environment and never in the database, yet rebuildable by the e-mail
 * drain from the invitation id; Postgres stores only the token's SHA-256, and accepting looks the
 * token up by that hash, so no key is needed to accept. A resend creates a new invitation (new id),
 * hence a new token.
 */
export interface InvitationKeys {
  /** Makes every new token. */
  current: Buffer;
  /** INVITATION_SECRET_PREVIOUS: rebuilds the links of invitations made before a rotation. */
  previous?: Buffer;
}

let keys: InvitationKeys | undefined;

/** Set once at start from the configuration (buildApp and startWorkers do). */
export function useInvitationSecrets(config: {
  invitationSecret: string;
  invitationSecretPrevious?: string | undefined;
}): void {
  keys = {
    current: Buffer.from(config.invitationSecret, 'utf8'),
    ...(config.invitationSecretPrevious
      ? { previous: Buffer.from(config.invitationSecretPrevious, 'utf8') }
      : {}),
  };
}

export function invitationKeys(): InvitationKeys {
  if (!keys) throw new Error('the invitation secret is not set: call useInvitationSecrets at start');
  return keys;
}

/**
 * The key new tokens are made with. The argument is not read (the key is no longer in the database);
 * it stays so that the engine's callers need no change.
 */
export const invitationSecret = (_db?: DbOrTx): Promise<Buffer> =>
  Promise.resolve().then(() => invitationKeys().current);

export const invitationToken = (secret: Buffer, invitationId: string): string =>
  createHmac('sha256', secret).update(invitationId).digest('base64url');

export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * The token whose hash the invitation stores, made with the current or the previous key; undefined
 * when neither made it (an invitation from before both: its link cannot be rebuilt).
 */
export function storedToken(k: InvitationKeys, invitationId: string, storedHash: Buffer): string | undefined {
  for (const key of [k.current, k.previous]) {
    if (!key) continue;
    const token = invitationToken(key, invitationId);
    const hash = tokenHash(token);
    if (hash.length === storedHash.length && timingSafeEqual(hash, storedHash)) return token;
  }
  return undefined;
}

/** Accept links: PUBLIC_URL/invitations/accept?token=... */
export const acceptLink = (publicUrl: string, token: string): string =>
  `${publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`;

/** A stable Message-ID per invitation, so a re-sent message is recognisably the same one. */
export const invitationMessageId = (publicUrl: string, invitationId: string): string =>
  `<invitation-${invitationId}@${new URL(publicUrl).hostname || 'loopit-provision'}>`;
