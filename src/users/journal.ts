import type { DbOrTx } from '../db/index.js';
import { newId } from '../lib/ids.js';
import { insertAuditEvents } from '../provisioning/users.repository.js';

/**
 * One audit event for a REST change of a role (a group) or a location, in the caller's transaction:
 * each changed field as { from, to }, source `api`, the token's prefix as actor. No change, no event.
 */
export async function journalChange(
  tx: DbOrTx,
  workspaceId: string,
  actor: string,
  event: {
    action: 'group.created' | 'group.updated' | 'location.created' | 'location.updated';
    targetType: 'group' | 'location';
    targetId: string;
    changes: Record<string, { from: unknown; to: unknown }>;
  },
): Promise<void> {
  const changes = Object.fromEntries(
    Object.entries(event.changes).filter(([, c]) => JSON.stringify(c.from) !== JSON.stringify(c.to)),
  );
  if (Object.keys(changes).length === 0) return;
  await insertAuditEvents(tx, workspaceId, actor, 'api', [
    {
      id: newId(),
      action: event.action,
      user_id: null,
      target_type: event.targetType,
      target_id: event.targetId,
      changes,
      details: null,
    },
  ]);
}
