import type { Db } from '../db/index.js';
import type { Resend } from '../api/users.js';
import type { Selectable } from 'kysely';
import type { InvitationResendTable } from '../db/tables.js';
import { notFound } from '../lib/errors.js';
import { resendOne } from '../provisioning/invitations.js';
import { findResend, insertResend } from './resends.repository.js';

export const toResend = (r: Selectable<InvitationResendTable>): Resend => ({
  id: r.id,
  status: r.status,
  invitationStatus: r.invitation_status,
  olderThanDays: r.older_than_days,
  matched: r.matched,
  resent: r.resent,
  error: r.error,
  createdAt: r.created_at.toISOString(),
  startedAt: r.started_at?.toISOString() ?? null,
  finishedAt: r.finished_at?.toISOString() ?? null,
});

export async function resendInvitation(
  db: Db,
  workspaceId: string,
  userId: string,
  actor: string,
): Promise<void> {
  await resendOne(db, workspaceId, userId, { actor, source: 'api' });
}

export async function requestResend(
  db: Db,
  workspaceId: string,
  actor: string,
  input: { status: 'pending' | 'expired'; olderThanDays?: number },
): Promise<Resend> {
  return toResend(await insertResend(db, workspaceId, actor, input.status, input.olderThanDays ?? null));
}

export async function getResend(db: Db, workspaceId: string, id: string): Promise<Resend> {
  const row = await findResend(db, workspaceId, id);
  if (!row) throw notFound('resend_not_found', `No invitation resend with id '${id}' in this workspace.`);
  return toResend(row);
}
