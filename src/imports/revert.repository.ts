import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { RowStatus } from '../db/tables.js';

/**
 * Stages a revert's rows: the original's rows that changed a user, with the original's idx and row
 * number, its cells (for the report) and the user's version the original left. Returns how many.
 */
export async function stageRevertRows(
  db: DbOrTx,
  workspaceId: string,
  originalId: string,
  revertId: string,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    with staged as (
      insert into import_rows (workspace_id, import_id, idx, row_number, cells, email, email_key, name, given_name,
                               family_name, role, location, external_id, status, user_id, user_version)
      select workspace_id, ${revertId}, idx, row_number, cells, email, email_key, name, given_name, family_name,
             role, location, external_id, 'pending', user_id, user_version
      from import_rows
      where workspace_id = ${workspaceId} and import_id = ${originalId}
        and status in ('created', 'updated', 'deactivated') and user_id is not null
      returning 1
    )
    select count(*)::int as n from staged`.execute(db);
  return rows[0]?.n ?? 0;
}

/** What the original import did to each of these rows. */
export async function originalStatuses(
  db: DbOrTx,
  workspaceId: string,
  originalId: string,
  idxs: number[],
): Promise<Map<number, RowStatus>> {
  if (idxs.length === 0) return new Map();
  const rows = await db
    .selectFrom('import_rows')
    .select(['idx', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', originalId)
    .where('idx', 'in', idxs)
    .execute();
  return new Map(rows.map((r) => [r.idx, r.status]));
}

export type Changes = Record<string, { from: unknown; to: unknown }>;

/** The journaled changes an import (`source`) made to each of these users. */
export async function journalOf(
  db: DbOrTx,
  workspaceId: string,
  source: string,
  userIds: string[],
): Promise<Map<string, Changes>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('audit_events')
    .select(['user_id', 'changes'])
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', source)
    .where('target_type', '=', 'user')
    .where('user_id', 'in', userIds)
    .where('action', 'in', ['user.updated', 'user.deactivated', 'user.reactivated'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const out = new Map<string, Changes>();
  for (const r of rows) {
    if (!r.user_id || !r.changes) continue;
    // One event per user per import; were there two, the earliest `from` is what came before.
    const merged = { ...(r.changes as Changes), ...(out.get(r.user_id) ?? {}) };
    out.set(r.user_id, merged);
  }
  return out;
}

/** Names of roles and locations by id (those that still exist). */
export async function namesOf(
  db: DbOrTx,
  workspaceId: string,
  roleIds: string[],
  locationIds: string[],
): Promise<{ roles: Map<string, string>; locations: Map<string, string> }> {
  const roles =
    roleIds.length === 0
      ? []
      : await db
          .selectFrom('roles')
          .select(['id', 'name'])
          .where('workspace_id', '=', workspaceId)
          .where('id', 'in', roleIds)
          .execute();
  const locations =
    locationIds.length === 0
      ? []
      : await db
          .selectFrom('locations')
          .select(['id', 'name'])
          .where('workspace_id', '=', workspaceId)
          .where('id', 'in', locationIds)
          .execute();
  return {
    roles: new Map(roles.map((r) => [r.id, r.name])),
    locations: new Map(locations.map((l) => [l.id, l.name])),
  };
}
