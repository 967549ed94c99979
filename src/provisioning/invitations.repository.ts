import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

export interface InvitationForAccept {
  workspace_id: string;
  id: string;
  user_id: string;
  status: 'pending' | 'accepted' | 'revoked';
  expires_at: Date;
  user_status: 'invited' | 'active' | 'deactivated';
  user_deleted: boolean;
  email: string;
}

/** How acceptance finds an invitation: by its ids (a current token) or its stored hash (a legacy one). */
export type InvitationKey = { workspaceId: string; invitationId: string } | { hash: Buffer };

/** The invitation and its user; `lock` takes both FOR UPDATE (acceptance). */
async function invitationBy(
  db: DbOrTx,
  key: InvitationKey,
  lock: boolean,
): Promise<InvitationForAccept | undefined> {
  const { rows } = await sql<InvitationForAccept>`
    select i.workspace_id, i.id, i.user_id, i.status, i.expires_at, u.status as user_status,
           (u.deleted_at is not null) as user_deleted, u.email
    from invitations i join users u on u.workspace_id = i.workspace_id and u.id = i.user_id
    where ${
      'hash' in key
        ? sql`i.token_hash = ${key.hash}`
        : sql`i.workspace_id = ${key.workspaceId} and i.id = ${key.invitationId}`
    }
    ${lock ? sql`for update of i, u` : sql``}`.execute(db);
  return rows[0];
}

export const lockInvitation = (db: DbOrTx, key: InvitationKey) => invitationBy(db, key, true);

/** Non-locking peek for the acceptance page, which must never accept. */
export const findInvitation = (db: DbOrTx, key: InvitationKey) => invitationBy(db, key, false);

export async function markAccepted(
  db: DbOrTx,
  workspaceId: string,
  invitationId: string,
  userId: string,
): Promise<number> {
  await sql`update invitations set status = 'accepted', accepted_at = now(),
              send_state = case when send_state = 'queued' then 'not_sent' else send_state end
            where workspace_id = ${workspaceId} and id = ${invitationId}`.execute(db);
  const { rows } = await sql<{ version: number }>`
    update users set status = case when status = 'invited' then 'active' else status end,
      activated_at = coalesce(activated_at, now()), version = version + 1, updated_at = now()
    where workspace_id = ${workspaceId} and id = ${userId}
    returning version`.execute(db);
  return rows[0]?.version ?? 0;
}

/** Invited, live users among ids, locked. */
export async function lockInvitedUsers(
  db: DbOrTx,
  workspaceId: string,
  ids: string[],
): Promise<{ id: string }[]> {
  const { rows } = await sql<{ id: string }>`
    select id from users
    where workspace_id = ${workspaceId} and id = any(${ids}::uuid[]) and status = 'invited' and (deleted_at is null) is true
    order by id for update`.execute(db);
  return rows;
}

/**
 * Invited users whose latest invitation matches: 'expired' (pending but past expiry), or 'pending'
 * (pending and still valid, or no invitation at all); only invitations created before `before` count,
 * so a re-run of the same resend skips users it already re-invited. Keyset-paged by user id.
 */
export async function invitedUsersToResend(
  db: DbOrTx,
  workspaceId: string,
  criteria: { status: 'pending' | 'expired'; createdBefore: Date; olderThan: Date | null },
  afterId: string | null,
  limit: number,
): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select u.id from users u
    left join lateral (
      select status, expires_at, created_at from invitations
      where workspace_id = u.workspace_id and user_id = u.id order by id desc limit 1
    ) i on true
    where u.workspace_id = ${workspaceId} and u.status = 'invited' and u.deleted_at is null
      ${afterId ? sql`and u.id > ${afterId}` : sql``}
      and ${
        criteria.status === 'expired'
          ? sql`i.status = 'pending' and i.expires_at <= now() and i.created_at < ${criteria.createdBefore}`
          : sql`(i.status is null or (i.status = 'pending' and i.expires_at > now() and i.created_at < ${criteria.createdBefore}))`
      }
      ${criteria.olderThan ? sql`and coalesce(i.created_at, u.created_at) < ${criteria.olderThan}` : sql``}
    order by u.id limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}
