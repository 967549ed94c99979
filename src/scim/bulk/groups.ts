import type { Db } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { failure, type BulkOperation, type BulkOpResult, type BulkRunContext } from './types.js';
import {
  createScimGroup,
  deleteScimGroup,
  patchScimGroup,
  replaceScimGroup,
  type ScimGroupJson,
} from '../resources/groups.service.js';
import type { ScimCaller } from '../resources/users.service.js';

const STATUS: Record<BulkOperation['method'], string> = {
  POST: '201',
  PUT: '200',
  PATCH: '200',
  DELETE: '204',
};

/**
 * Runs one Bulk operation on /Groups, its bulkId references (members' `value`) already resolved,
 * through the same functions as the single requests (one transaction each; a group write locks the
 * group, so they are not batched). Members are not read back: the result needs the id and version only.
 */
export async function runGroupOperation(
  db: Db,
  workspaceId: string,
  op: BulkOperation,
  ctx: BulkRunContext,
): Promise<BulkOpResult> {
  const caller: ScimCaller = {
    workspaceId,
    actor: ctx.actor,
    publicUrl: '',
    operation: 'POST /scim/v2/Bulk',
  };
  const id = op.id ?? '';
  try {
    let group: ScimGroupJson | undefined;
    if (op.method === 'POST') group = await createScimGroup(db, caller, op.data, false);
    else if (op.method === 'PUT') group = await replaceScimGroup(db, caller, id, op.data, op.version, false);
    else if (op.method === 'PATCH') group = await patchScimGroup(db, caller, id, op.data, op.version, false);
    else await deleteScimGroup(db, caller, id, op.version);
    const meta = group?.meta as { version?: string } | undefined;
    return {
      method: op.method,
      resource: op.resource,
      ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
      id: (group?.id as string | undefined) ?? id,
      ...(meta?.version ? { version: meta.version } : {}),
      status: STATUS[op.method],
    };
  } catch (error) {
    // Anything else (a lost connection) fails the job, whose retry runs the operations not yet recorded.
    if (error instanceof ScimError) return failure(op, error, op.method === 'POST' ? undefined : id);
    throw error;
  }
}
