import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { LocationRow } from '../db/tables.js';

const columns = ['workspace_id', 'id', 'name', 'name_key', 'created_at', 'updated_at'] as const;

export async function insertLocations(
  db: DbOrTx,
  rows: { workspace_id: string; id: string; name: string; name_key: string }[],
): Promise<LocationRow[]> {
  if (rows.length === 0) return [];
  return db.insertInto('locations').values(rows).returning(columns).execute();
}

/** Locations by name; keyset paging on (name_key, id). */
export function listLocations(
  db: DbOrTx,
  workspaceId: string,
  limit: number,
  after?: { nameKey: string; id: string },
): Promise<LocationRow[]> {
  let q = db.selectFrom('locations').select(columns).where('workspace_id', '=', workspaceId);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('name_key', '>', after.nameKey),
        eb.and([eb('name_key', '=', after.nameKey), eb('id', '>', after.id)]),
      ]),
    );
  }
  return q.orderBy('name_key').orderBy('id').limit(limit).execute();
}

/** A location's current name, its row locked for a rename in the caller's transaction. */
export async function lockLocationName(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('locations')
    .select('name')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row?.name;
}

export function updateLocation(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  patch: { name: string; name_key: string },
): Promise<LocationRow | undefined> {
  return db
    .updateTable('locations')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst();
}
