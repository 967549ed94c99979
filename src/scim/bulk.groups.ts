import type { Db } from '../db/index.js';
import { ScimError } from '../lib/errors.js';
import { failure, type BulkOperation, type BulkOpResult, type BulkRunContext } from './bulk.types.js';

/**
 * Runs one Bulk operation on /Groups, its bulkId references (members' `value`) already resolved.
 * Groups are not in this branch yet: every such operation fails on its own, and the others go on.
 * Once Groups exist, this calls their service and returns 201/200/204 with `id` and `version`.
 */
export async function runGroupOperation(
  _db: Db,
  _workspaceId: string,
  op: BulkOperation,
  _ctx: BulkRunContext,
): Promise<BulkOpResult> {
  return failure(op, new ScimError(400, 'invalidPath', 'Groups operations in Bulk are not supported yet.'));
}
