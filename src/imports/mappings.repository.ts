import type { DbOrTx } from '../db/index.js';
import type { Field } from './pipeline/aliases.js';

export interface SavedMapping {
  header_key: string;
  header: string;
  field: Field;
}

/** The saved mappings of these header keys (a file's header): key → field. */
export async function savedFor(db: DbOrTx, workspaceId: string, keys: string[]): Promise<Map<string, Field>> {
  const wanted = [...new Set(keys.filter((k) => k !== ''))];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .selectFrom('import_mappings')
    .select(['header_key', 'field'])
    .where('workspace_id', '=', workspaceId)
    .where('header_key', 'in', wanted)
    .execute();
  return new Map(rows.map((r) => [r.header_key, r.field]));
}

/** Remembers choices (the newest spelling of a header and its field win). */
export async function upsertMappings(db: DbOrTx, workspaceId: string, rows: SavedMapping[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('import_mappings')
    .values(rows.map((r) => ({ workspace_id: workspaceId, ...r })))
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'header_key']).doUpdateSet((eb) => ({
        header: eb.ref('excluded.header'),
        field: eb.ref('excluded.field'),
        updated_at: new Date(),
      })),
    )
    .execute();
}

/** Forgets these header keys; returns how many were saved. */
export async function deleteMappings(db: DbOrTx, workspaceId: string, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const result = await db
    .deleteFrom('import_mappings')
    .where('workspace_id', '=', workspaceId)
    .where('header_key', 'in', keys)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** By header key, keyset-paged. */
export function listMappings(
  db: DbOrTx,
  workspaceId: string,
  limit: number,
  afterKey?: string,
): Promise<SavedMapping[]> {
  let q = db
    .selectFrom('import_mappings')
    .select(['header_key', 'header', 'field'])
    .where('workspace_id', '=', workspaceId);
  if (afterKey !== undefined) q = q.where('header_key', '>', afterKey);
  return q.orderBy('header_key').limit(limit).execute();
}
