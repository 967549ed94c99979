import type { DbOrTx } from '../db/index.js';

export async function engineSettingsForSync(db: DbOrTx, workspaceId: string) {
  return db
    .selectFrom('workspace_settings')
    .select(['sync_threshold_percent', 'sync_threshold_min', 'default_role_id'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
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
