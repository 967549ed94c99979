import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

const absent = (workspaceId: string, importId: string) => sql`
  from users u
  where u.workspace_id = ${workspaceId} and u.deleted_at is null and u.status in ('active', 'invited')
    and u.managed_by is null
    and not exists (select 1 from import_rows r
                    where r.workspace_id = ${workspaceId} and r.import_id = ${importId} and r.email_key = u.email_key)`;

/**
 * How many users a sync would deactivate (active or invited, not managed by an identity provider, not
 * in the file; a row that failed still counts as present) and the base of the safety threshold.
 */
export async function syncCounts(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
): Promise<{ absent: number; base: number }> {
  const { rows } = await sql<{ absent: number; base: number }>`
    select (select count(*)::int ${absent(workspaceId, importId)}) as absent,
           (select count(*)::int from users where workspace_id = ${workspaceId} and deleted_at is null
              and status in ('active', 'invited')) as base`.execute(db);
  return rows[0] ?? { absent: 0, base: 0 };
}

/** Appends one row per user to deactivate (row_number null), pending, so batches run them like any row. */
export async function stageDeactivations(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  fromIdx: number,
): Promise<number> {
  const result = await sql`
    insert into import_rows (workspace_id, import_id, idx, row_number, cells, email, email_key, name, user_id, status)
    select ${workspaceId}, ${importId}, ${fromIdx} + row_number() over (order by u.id), null, '{}', u.email, u.email_key,
           coalesce(u.display_name, concat_ws(' ', u.given_name, u.family_name)), u.id, 'pending'
    ${absent(workspaceId, importId)}
      and not exists (select 1 from import_rows d where d.workspace_id = ${workspaceId} and d.import_id = ${importId}
                      and d.row_number is null and d.user_id = u.id)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
