import type { DbOrTx } from '../db/index.js';
import type { WorkspaceSettingsRow } from '../db/tables.js';
import { findSettings } from './settings.repository.js';

export interface Named {
  id: string;
  name: string;
  name_key: string;
}

export function rolesByKeys(
  db: DbOrTx,
  workspaceId: string,
  keys: string[],
): Promise<(Named & { rank: number })[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('roles')
    .select(['id', 'name', 'name_key', 'rank'])
    .where('workspace_id', '=', workspaceId)
    .where('name_key', 'in', keys)
    .execute();
}

export function locationsByKeys(db: DbOrTx, workspaceId: string, keys: string[]): Promise<Named[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('locations')
    .select(['id', 'name', 'name_key'])
    .where('workspace_id', '=', workspaceId)
    .where('name_key', 'in', keys)
    .execute();
}

/** Names for error messages ("existing roles: ..."), capped. */
export async function someNames(
  db: DbOrTx,
  workspaceId: string,
  table: 'roles' | 'locations',
  limit = 20,
): Promise<string[]> {
  const rows = await db
    .selectFrom(table)
    .select('name')
    .where('workspace_id', '=', workspaceId)
    .orderBy('name_key')
    .limit(limit)
    .execute();
  return rows.map((r) => r.name);
}

export type EngineSettings = Pick<WorkspaceSettingsRow, 'default_role_id' | 'invitation_ttl_hours'>;

/** What the engine reads of a workspace's settings (the one settings reader). */
export const engineSettings: (db: DbOrTx, workspaceId: string) => Promise<EngineSettings | undefined> =
  findSettings;

/** Creates the locations not there yet (a concurrent creator wins quietly); returns those it created. */
export function insertMissingLocations(
  db: DbOrTx,
  workspaceId: string,
  rows: { id: string; name: string; name_key: string }[],
): Promise<Named[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return db
    .insertInto('locations')
    .values(rows.map((r) => ({ workspace_id: workspaceId, ...r })))
    .onConflict((oc) => oc.columns(['workspace_id', 'name_key']).doNothing())
    .returning(['id', 'name', 'name_key'])
    .execute();
}
