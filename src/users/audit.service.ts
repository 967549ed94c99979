import type { Db } from '../db/index.js';
import type { AuditEvent } from '../api/settings.js';
import { badRequest } from '../lib/errors.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../lib/pagination.js';
import { listAuditEvents } from './audit.repository.js';

/** `since` and `until`: an ISO 8601 date or date-time, else 400 `invalid_since` / `invalid_until`. */
function dateParam(name: 'since' | 'until', raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) {
    throw badRequest(`invalid_${name}`, `${name} must be an ISO 8601 date or date-time; got '${raw}'.`, {
      field: name,
    });
  }
  return date;
}

export async function listAudit(
  db: Db,
  workspaceId: string,
  query: {
    limit?: string;
    cursor?: string;
    userId?: string;
    since?: string;
    until?: string;
    action?: string;
    source?: string;
    actor?: string;
    targetType?: string;
    targetId?: string;
  },
): Promise<Page<AuditEvent>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['uuid']);
  const since = dateParam('since', query.since);
  const until = dateParam('until', query.until);
  const rows = await listAuditEvents(
    db,
    workspaceId,
    {
      userId: query.userId,
      since,
      until,
      action: query.action,
      source: query.source,
      actor: query.actor,
      targetType: query.targetType,
      targetId: query.targetId,
      beforeId: cursor?.[0] as string | undefined,
    },
    limit + 1,
  );
  return toPage(
    rows,
    limit,
    (r) => [r.id],
    (r) => ({
      id: r.id,
      actor: r.actor,
      action: r.action,
      source: r.source,
      targetType: r.target_type,
      targetId: r.target_id,
      userId: r.user_id,
      changes: r.changes,
      details: r.details,
      createdAt: r.created_at.toISOString(),
    }),
  );
}
