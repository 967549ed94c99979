import type { DbOrTx } from '../db/index.js';

export async function engineSettingsForSync(db: DbOrTx, workspaceId: string) {
  return db
    .selectFrom('workspace_settings')
    .select(['sync_threshold_percent', 'sync_threshold_min', 'default_role_id'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
}
