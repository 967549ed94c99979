import type { Db, DbOrTx } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { invitationKeys, isLegacyToken, readToken, tokenHash } from './invitation-tokens.js';
import * as repo from './invitations.repository.js';
import { engineSettings } from './lookup.repository.js';
import { insertAuditEvents, insertInvitations, revokeOpenInvitations } from './users.repository.js';

/**
 * Re-invites invited users: revokes each open invitation and queues a new one (new token), in the
 * caller's transaction. Users no longer invited are skipped. Returns the ids re-invited.
 */
export async function reissueInvitations(
  tx: DbOrTx,
  workspaceId: string,
  userIds: string[],
  actor: { actor: string; source: string },
): Promise<string[]> {
  if (userIds.length === 0) return [];
  const settings = await engineSettings(tx, workspaceId);
  if (!settings) throw new Error(`workspace ${workspaceId} has no settings`);
  const ids = (await repo.lockInvitedUsers(tx, workspaceId, userIds)).map((u) => u.id);
  if (ids.length === 0) return [];
  await revokeOpenInvitations(tx, workspaceId, ids);
  const expiresAt = new Date(Date.now() + settings.invitation_ttl_hours * 3600_000);
  const invitations = ids.map((userId) => {
    const id = newId();
    return { id, user_id: userId };
  });
  await insertInvitations(tx, workspaceId, invitations, expiresAt, actor.actor);
  await insertAuditEvents(
    tx,
    workspaceId,
    actor.actor,
    actor.source,
    invitations.map((i) => ({
      id: newId(),
      action: 'invitation.resent',
      user_id: i.user_id,
      target_type: 'invitation',
      target_id: i.id,
      changes: null,
      details: { expiresAt: expiresAt.toISOString() },
    })),
  );
  return ids;
}

/** New invitations for those of `userIds` still invited, in one transaction; returns who got one. */
export async function resendMany(
  db: Db,
  workspaceId: string,
  userIds: string[],
  actor: { actor: string; source: string },
): Promise<string[]> {
  return db.transaction().execute((tx) => reissueInvitations(tx, workspaceId, userIds, actor));
}

export async function resendOne(
  db: Db,
  workspaceId: string,
  userId: string,
  actor: { actor: string; source: string },
): Promise<void> {
  const done = await resendMany(db, workspaceId, [userId], actor);
  if (done.length === 0)
    throw new AppError(
      409,
      'user_not_invited',
      'Only an invited user can get a new invitation; this user is active or deactivated.',
    );
}

const notFound = () =>
  new AppError(
    404,
    'invitation_not_found',
    'This invitation link is not valid; ask your administrator for a new invitation.',
  );

/** Where a token leads: its invitation's ids (MAC checked), a legacy token's hash, or nowhere. */
function invitationKey(token: string): repo.InvitationKey | undefined {
  if (!token || token.length > 200) return undefined;
  if (isLegacyToken(token)) return { hash: tokenHash(token) };
  return readToken(invitationKeys(), token);
}

/** What the acceptance page shows before the button is pressed (a GET never accepts). */
export async function inspectInvitation(
  db: Db,
  token: string,
): Promise<'valid' | 'not_found' | 'expired' | 'used'> {
  const key = invitationKey(token);
  return classify(key ? await repo.findInvitation(db, key) : undefined);
}

function classify(inv: repo.InvitationForAccept | undefined): 'valid' | 'not_found' | 'expired' | 'used' {
  if (!inv || inv.user_deleted) return 'not_found';
  if (inv.status === 'accepted') return 'used';
  if (inv.status === 'revoked' || inv.expires_at.getTime() <= Date.now()) return 'expired';
  return 'valid';
}

/** Accepts an invitation: the user becomes active. 404 unknown, 410 expired or replaced, 409 used. */
export async function acceptInvitation(
  db: Db,
  token: string,
): Promise<{ userId: string; email: string; status: 'active' }> {
  const key = invitationKey(token);
  if (!key) throw notFound();
  return db.transaction().execute(async (tx) => {
    const inv = await repo.lockInvitation(tx, key);
    const state = classify(inv);
    if (state === 'not_found' || !inv) throw notFound();
    if (state === 'used')
      throw new AppError(409, 'invitation_used', 'This invitation was already accepted; sign in instead.');
    if (state === 'expired') {
      const replaced = inv.status === 'revoked';
      throw new AppError(
        410,
        'invitation_expired',
        replaced
          ? 'This invitation was replaced by a newer one or withdrawn; use the link in the most recent e-mail, or ask your administrator.'
          : 'This invitation has expired; ask your administrator to send a new one.',
      );
    }
    const version = await repo.markAccepted(tx, inv.workspace_id, inv.id, inv.user_id);
    await insertAuditEvents(tx, inv.workspace_id, 'invitation', 'invitation', [
      {
        id: newId(),
        action: 'invitation.accepted',
        user_id: inv.user_id,
        target_type: 'invitation',
        target_id: inv.id,
        changes: { status: { from: inv.user_status, to: 'active' } },
        details: { version },
      },
    ]);
    return { userId: inv.user_id, email: inv.email, status: 'active' as const };
  });
}

/**
 * One page of a bulk resend: invited users matching the criteria after `afterId`, re-invited in one
 * transaction. Returns the page's user ids (empty when done) and how many were re-invited.
 */
export async function resendPage(
  db: Db,
  workspaceId: string,
  criteria: { status: 'pending' | 'expired'; createdBefore: Date; olderThan: Date | null },
  afterId: string | null,
  limit: number,
  actor: { actor: string; source: string },
): Promise<{ ids: string[]; resent: number }> {
  const ids = await repo.invitedUsersToResend(db, workspaceId, criteria, afterId, limit);
  if (ids.length === 0) return { ids, resent: 0 };
  const done = await db.transaction().execute((tx) => reissueInvitations(tx, workspaceId, ids, actor));
  return { ids, resent: done.length };
}
