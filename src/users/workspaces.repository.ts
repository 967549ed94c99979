import type { DbOrTx } from '../db/index.js';

export async function insertWorkspace(db: DbOrTx, row: { id: string; name: string }): Promise<void> {
  await db.insertInto('workspaces').values(row).execute();
}

export async function insertSettings(
  db: DbOrTx,
  row: { workspace_id: string; default_role_id: string },
): Promise<void> {
  await db.insertInto('workspace_settings').values(row).execute();
}

export function findWorkspace(
  db: DbOrTx,
  workspaceId: string,
): Promise<{ id: string; name: string } | undefined> {
  return db.selectFrom('workspaces').select(['id', 'name']).where('id', '=', workspaceId).executeTakeFirst();
}

export function workspaceExists(db: DbOrTx, workspaceId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('workspaces').select('id').where('id', '=', workspaceId).executeTakeFirst();
}

export async function updateSettingsRow(
  db: DbOrTx,
  workspaceId: string,
  set: Partial<{
    default_role_id: string;
    invitation_ttl_hours: number;
    scim_send_invites: boolean;
    scim_creates_locations: boolean;
    sync_threshold_percent: number;
    sync_threshold_min: number;
  }>,
): Promise<void> {
  await db
    .updateTable('workspace_settings')
    .set({ ...set, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .execute();
}
