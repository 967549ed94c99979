import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

export function listAuditEvents(
  db: DbOrTx,
  workspaceId: string,
  filters: {
    userId?: string;
    since?: Date;
    until?: Date;
    beforeId?: string;
    action?: string;
    source?: string;
    actor?: string;
    targetType?: string;
    targetId?: string;
  },
  limit: number,
) {
  let q = db
    .selectFrom('audit_events')
    .select([
      'id',
      'actor',
      'action',
      'source',
      'target_type',
      'target_id',
      'user_id',
      'changes',
      'details',
      'created_at',
    ])
    .where('workspace_id', '=', workspaceId);
  if (filters.userId) q = q.where('user_id', '=', filters.userId);
  if (filters.since) q = q.where('created_at', '>=', filters.since);
  if (filters.until) q = q.where('created_at', '<', filters.until);
  if (filters.action) q = q.where('action', '=', filters.action);
  // source=csv matches every import (csv:<id>), as source=scim matches SCIM writes.
  if (filters.source) {
    const source = filters.source;
    q = source.includes(':')
      ? q.where('source', '=', source)
      : q.where((eb) => eb.or([eb('source', '=', source), eb('source', 'like', `${source}:%`)]));
  }
  if (filters.actor) q = q.where('actor', '=', filters.actor);
  if (filters.targetType) q = q.where('target_type', '=', filters.targetType);
  if (filters.targetId) q = q.where('target_id', '=', filters.targetId);
  if (filters.beforeId) q = q.where('id', '<', filters.beforeId);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

/** The smallest uuidv7 of a moment: event ids are uuidv7, so "older than" is a range of the primary key. */
export function uuidv7Floor(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/**
 * Deletes audit events older than `days`, workspace by workspace, `batch` rows per statement along the
 * primary key (no scan of the table, short transactions), at most `maxBatches` statements per call so
 * that one sweep stays short; the next sweep goes on. Returns how many it deleted.
 */
export async function purgeAudit(
  db: DbOrTx,
  days: number,
  { batch = 10_000, maxBatches = 100 }: { batch?: number; maxBatches?: number } = {},
): Promise<number> {
  const floor = uuidv7Floor(new Date(Date.now() - days * 86_400_000));
  const workspaces = await db.selectFrom('workspaces').select('id').execute();
  let deleted = 0;
  let statements = 0;
  for (const { id: workspaceId } of workspaces) {
    for (;;) {
      // An index probe first: a workspace with nothing to purge costs no delete statement.
      const old = await db
        .selectFrom('audit_events')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('id', '<', floor)
        .limit(1)
        .executeTakeFirst();
      if (!old) break;
      if (statements >= maxBatches) return deleted;
      statements += 1;
      const result = await sql`
        delete from audit_events where workspace_id = ${workspaceId} and id in (
          select id from audit_events where workspace_id = ${workspaceId} and id < ${floor}::uuid
          order by id limit ${batch})`.execute(db);
      deleted += Number(result.numAffectedRows ?? 0);
    }
  }
  return deleted;
}
