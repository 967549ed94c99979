import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { RoleRow } from '../db/tables.js';

const columns = [
  'workspace_id',
  'id',
  'name',
  'name_key',
  'rank',
  'version',
  'external_id',
  'created_at',
  'updated_at',
] as const;

export async function insertRoles(
  db: DbOrTx,
  rows: { workspace_id: string; id: string; name: string; name_key: string; rank: number }[],
): Promise<RoleRow[]> {
  if (rows.length === 0) return [];
  return db.insertInto('roles').values(rows).returning(columns).execute();
}

/** Roles by rank, highest first; keyset paging on (rank desc, id). */
export function listRoles(
  db: DbOrTx,
  workspaceId: string,
  limit: number,
  after?: { rank: number; id: string },
): Promise<RoleRow[]> {
  let q = db.selectFrom('roles').select(columns).where('workspace_id', '=', workspaceId);
  if (after) {
    q = q.where((eb) =>
      eb.or([eb('rank', '<', after.rank), eb.and([eb('rank', '=', after.rank), eb('id', '>', after.id)])]),
    );
  }
  return q.orderBy('rank', 'desc').orderBy('id').limit(limit).execute();
}

export function findRole(db: DbOrTx, workspaceId: string, id: string): Promise<RoleRow | undefined> {
  return db
    .selectFrom('roles')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function findRoleByKey(
  db: DbOrTx,
  workspaceId: string,
  nameKey: string,
): Promise<RoleRow | undefined> {
  return db
    .selectFrom('roles')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('name_key', '=', nameKey)
    .executeTakeFirst();
}

export function updateRole(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  patch: { name?: string; name_key?: string; rank?: number },
): Promise<RoleRow | undefined> {
  return db
    .updateTable('roles')
    .set({ ...patch, updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst();
}
