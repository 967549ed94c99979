import type { DbOrTx } from '../db/index.js';
import { newId } from '../lib/ids.js';
import { insertAuditEvents } from '../provisioning/users.repository.js';

export type WebhookAction = 'webhook.created' | 'webhook.updated' | 'webhook.deleted' | 'webhook.disabled';

/**
 * A change to a webhook endpoint in the audit journal (target type `webhook`), in the caller's
 * transaction: where the workspace's data is sent is an administrator's decision the log must show.
 * Never the secret.
 */
export async function journalWebhook(
  tx: DbOrTx,
  workspaceId: string,
  actor: string,
  event: {
    action: WebhookAction;
    id: string;
    changes: Record<string, { from: unknown; to: unknown }>;
    details?: Record<string, unknown>;
    /** `api` for a change through the API; `webhooks` for the service's own (disabling a failing endpoint). */
    source?: 'api' | 'webhooks';
  },
): Promise<void> {
  const changes = Object.fromEntries(
    Object.entries(event.changes).filter(([, c]) => JSON.stringify(c.from) !== JSON.stringify(c.to)),
  );
  if (Object.keys(changes).length === 0 && event.action === 'webhook.updated') return;
  await insertAuditEvents(tx, workspaceId, actor, event.source ?? 'api', [
    {
      id: newId(),
      action: event.action,
      user_id: null,
      target_type: 'webhook',
      target_id: event.id,
      changes,
      details: event.details ?? null,
    },
  ]);
}
