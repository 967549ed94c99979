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
