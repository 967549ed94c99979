import type { DbOrTx } from '../../db/index.js';
import { isUuid, newId } from '../../lib/ids.js';
import { insertAuditEvents } from '../../provisioning/users.repository.js';
import type { ScimCaller } from './users.service.js';

/** What the identity provider was told when a SCIM write was refused. */
export interface Refusal {
  status: number;
  scimType?: string;
  detail?: string;
}

const short = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.slice(0, 200) : undefined;

/**
 * Records a refused SCIM write (`scim.rejected`) in the provisioning log, so an administrator can see
 * why an identity provider's change did not land: the operation, the user or group it named, the
 * userName or displayName it sent, and the answer.
 */
export async function recordRefusedWrite(
  db: DbOrTx,
  caller: ScimCaller,
  resource: 'user' | 'group',
  id: string | undefined,
  body: unknown,
  refusal: Refusal,
): Promise<void> {
  const target = id && isUuid(id) ? id.toLowerCase() : null;
  const sent = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const name = resource === 'user' ? short(sent.userName) : short(sent.displayName);
  await insertAuditEvents(db, caller.workspaceId, caller.actor, 'scim', [
    {
      id: newId(),
      action: 'scim.rejected',
      user_id: resource === 'user' ? target : null,
      target_type: resource,
      target_id: target,
      changes: null,
      details: {
        ...(caller.operation ? { operation: caller.operation } : {}),
        ...(name ? { [resource === 'user' ? 'userName' : 'displayName']: name } : {}),
        status: refusal.status,
        ...(refusal.scimType ? { scimType: refusal.scimType } : {}),
        ...(refusal.detail ? { detail: refusal.detail.slice(0, 1000) } : {}),
      },
    },
  ]);
}
