import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * An invitation token carries its invitation: base64url(workspace id ‖ invitation id ‖ MAC), the MAC
 * being HMAC-SHA256(INVITATION_SECRET, workspace id ‖ invitation id) cut to 128 bits: 64 characters. Acceptance
 * reads the ids, looks the invitation up by primary key and compares the MAC in constant time under the
 * current key, then the previous one (INVITATION_SECRET_PREVIOUS, during a rotation). Nothing about the
 * token is stored: the e-mail drain makes it from the ids when it sends, so creating an invitation
 * costs no hashing and no index on a random value. A resend creates a new invitation (new id), hence a
 * new token. Tokens from before this form (43 characters) are still accepted through the hash their
 * invitation stored (`token_hash`, legacy rows only).
 */
export interface InvitationKeys {
  /** Makes every new token. */
  current: Buffer;
  /** INVITATION_SECRET_PREVIOUS: links made under it before a rotation are still accepted. */
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

const MAC_BYTES = 16;

const idBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (bytes: Buffer): string => {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const mac = (key: Buffer, ids: Buffer): Buffer =>
  createHmac('sha256', key).update(ids).digest().subarray(0, MAC_BYTES);

/** The link token of an invitation, under `key` (the current one: invitationKeys().current). */
export function invitationToken(key: Buffer, workspaceId: string, invitationId: string): string {
  const ids = Buffer.concat([idBytes(workspaceId), idBytes(invitationId)]);
  return Buffer.concat([ids, mac(key, ids)]).toString('base64url');
}

/** The link token an e-mail sends now: under the current key. */
export const currentToken = (workspaceId: string, invitationId: string): string =>
  invitationToken(invitationKeys().current, workspaceId, invitationId);

/** Legacy tokens (HMAC of the id alone, looked up by their stored hash) are 32 bytes: 43 characters. */
const LEGACY_LENGTH = 43;
const TOKEN_BYTES = 32 + MAC_BYTES;

/** Whether a token is of the legacy form (looked up by hash) rather than the current one (ids and MAC). */
export const isLegacyToken = (token: string): boolean => token.length === LEGACY_LENGTH;

/**
 * The invitation a token names, if the token has the current form and its MAC is right under one of
 * the keys; undefined otherwise.
 */
export function readToken(
  k: InvitationKeys,
  token: string,
): { workspaceId: string; invitationId: string } | undefined {
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== TOKEN_BYTES || bytes.toString('base64url') !== token) return undefined;
  const ids = bytes.subarray(0, 32);
  const given = bytes.subarray(32);
  const valid = [k.current, k.previous].some((key) => key && timingSafeEqual(mac(key, ids), given));
  return valid
    ? { workspaceId: uuidOf(ids.subarray(0, 16)), invitationId: uuidOf(ids.subarray(16)) }
    : undefined;
}

/** The SHA-256 a legacy invitation stored of its token. */
export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Accept links: PUBLIC_URL/invitations/accept?token=... */
export const acceptLink = (publicUrl: string, token: string): string =>
  `${publicUrl}/invitations/accept?token=${encodeURIComponent(token)}`;

/** A stable Message-ID per invitation, so a re-sent message is recognisably the same one. */
export const invitationMessageId = (publicUrl: string, invitationId: string): string =>
  `<invitation-${invitationId}@${new URL(publicUrl).hostname || 'loopit-provision'}>`;
