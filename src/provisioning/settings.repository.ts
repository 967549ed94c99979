import type { DbOrTx } from '../db/index.js';
import type { WorkspaceSettingsRow } from '../db/tables.js';

/** The one reader of workspace_settings: the engine, SCIM, imports and the settings routes ask it. */
export function findSettings(db: DbOrTx, workspaceId: string): Promise<WorkspaceSettingsRow | undefined> {
  return db
    .selectFrom('workspace_settings')
    .select([
      'workspace_id',
      'default_role_id',
      'invitation_ttl_hours',
      'scim_send_invites',
      'scim_creates_locations',
      'sync_threshold_percent',
      'sync_threshold_min',
      'updated_at',
    ])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

/** The name of the workspace's default role. */
export async function defaultRoleName(db: DbOrTx, workspaceId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('workspace_settings as s')
    .innerJoin('roles as r', (join) =>
      join.onRef('r.workspace_id', '=', 's.workspace_id').onRef('r.id', '=', 's.default_role_id'),
    )
    .select('r.name')
    .where('s.workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row?.name;
}
