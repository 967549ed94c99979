import type { Selectable } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { InvitationResendTable } from '../db/tables.js';

const columns = [
  'workspace_id',
  'id',
  'status',
  'invitation_status',
  'older_than_days',
  'matched',
  'resent',
  'error',
  'requested_by',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export function insertResend(
  db: DbOrTx,
  workspaceId: string,
  actor: string,
  status: 'pending' | 'expired',
  olderThanDays: number | null,
): Promise<Selectable<InvitationResendTable>> {
  return db
    .insertInto('invitation_resends')
    .values({
      workspace_id: workspaceId,
      invitation_status: status,
      older_than_days: olderThanDays,
      requested_by: actor,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export function findResend(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<Selectable<InvitationResendTable> | undefined> {
  return db
    .selectFrom('invitation_resends')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function markResend(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  set: Partial<{
    status: 'processing' | 'completed' | 'failed';
    matched: number;
    resent: number;
    error: string | null;
    started_at: Date;
    finished_at: Date;
  }>,
): Promise<void> {
  await db
    .updateTable('invitation_resends')
    .set(set)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Resends Postgres says are not finished: the sweeper re-enqueues them. */
export function unfinishedResends(db: DbOrTx, limit = 1000): Promise<{ workspace_id: string; id: string }[]> {
  return db
    .selectFrom('invitation_resends')
    .select(['workspace_id', 'id'])
    .where('status', 'in', ['queued', 'processing'])
    .orderBy('id')
    .limit(limit)
    .execute();
}
