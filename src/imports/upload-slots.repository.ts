import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/index.js';

/**
 * Takes one of the workspace's `max` upload slots under a per-workspace advisory lock, so that API
 * processes taking slots at once count each other. Slots not renewed within `staleMs` belonged to a
 * process that died: they are removed first and do not count. Returns how many the workspace held
 * before, and whether this one was taken.
 */
export async function takeSlot(
  db: Db,
  workspaceId: string,
  id: string,
  max: number,
  staleMs: number,
): Promise<{ taken: boolean; held: number }> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`upload-slots:${workspaceId}`}))`.execute(tx);
    await tx
      .deleteFrom('upload_slots')
      .where('workspace_id', '=', workspaceId)
      .where('renewed_at', '<', sql<Date>`now() - make_interval(secs => ${staleMs / 1000})`)
      .execute();
    const { held } = await tx
      .selectFrom('upload_slots')
      .select(sql<number>`count(*)::int`.as('held'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    if (held >= max) return { taken: false, held };
    await tx.insertInto('upload_slots').values({ workspace_id: workspaceId, id }).execute();
    return { taken: true, held };
  });
}

export async function renewSlot(db: DbOrTx, workspaceId: string, id: string): Promise<void> {
  await db
    .updateTable('upload_slots')
    .set({ renewed_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function releaseSlot(db: DbOrTx, workspaceId: string, id: string): Promise<void> {
  await db.deleteFrom('upload_slots').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}
