import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

export interface KeyRow {
  state: 'in_progress' | 'done';
  fingerprint: string | null;
  import_id: string | null;
  created_at: Date;
}

/** Claims a key for this request; when it is taken, returns the holder instead. Keys live 24 hours. */
export async function claimKey(
  db: DbOrTx,
  workspaceId: string,
  key: string,
): Promise<{ claimed: true } | { claimed: false; holder: KeyRow }> {
  await sql`delete from idempotency_keys where workspace_id = ${workspaceId} and key = ${key}
            and (created_at < now() - interval '24 hours'
                 or (state = 'in_progress' and created_at < now() - interval '30 minutes'))`.execute(db);
  const inserted =
    await sql`insert into idempotency_keys (workspace_id, key, state) values (${workspaceId}, ${key}, 'in_progress')
                             on conflict do nothing`.execute(db);
  if (Number(inserted.numAffectedRows ?? 0) === 1) return { claimed: true };
  const holder = await db
    .selectFrom('idempotency_keys')
    .select(['state', 'fingerprint', 'import_id', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .executeTakeFirst();
  // Deleted between our insert and our read (it expired): try once more.
  if (!holder) return claimKey(db, workspaceId, key);
  return { claimed: false, holder };
}

export async function completeKey(
  db: DbOrTx,
  workspaceId: string,
  key: string,
  fingerprint: string,
  importId: string,
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ state: 'done', fingerprint, import_id: importId })
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .execute();
}

/** A refused request stores nothing: its claim goes. */
export async function releaseKey(db: DbOrTx, workspaceId: string, key: string): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .where('state', '=', 'in_progress')
    .execute();
}
