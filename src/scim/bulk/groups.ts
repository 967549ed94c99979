import type { Db, DbOrTx } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import type { GroupRole } from '../../provisioning/groups.js';
import { weakEtag } from '../resources/etag.js';
import { writeScimGroup } from '../resources/groups.service.js';
import type { ScimCaller } from '../resources/users.service.js';
import { failure, type BulkOperation, type BulkOpResult, type BulkRunContext } from './types.js';

const STATUS: Record<BulkOperation['method'], string> = {
  POST: '201',
  PUT: '200',
  PATCH: '200',
  DELETE: '204',
};

/** Records an operation's result inside the transaction of its write; throws to roll the write back. */
export type RecordInTransaction = (tx: DbOrTx, result: BulkOpResult) => Promise<void>;

export interface GroupOperationOutcome {
  result: BulkOpResult;
  /** True when `result` committed with the write; a refusal wrote nothing and is for the caller to record. */
  recorded: boolean;
}

function success(op: BulkOperation, role: GroupRole): BulkOpResult {
  return {
    method: op.method,
    resource: op.resource,
    ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
    id: op.method === 'DELETE' ? (op.id ?? role.id) : role.id,
    ...(op.method !== 'DELETE' ? { version: weakEtag(role.version) } : {}),
    status: STATUS[op.method],
  };
}

/**
 * Runs one Bulk operation on /Groups, its bulkId references (members' `value`) already resolved,
 * through the same write as the single requests (one transaction each; a group write locks the group,
 * so they are not batched). Its result is recorded by `record` in the write's own transaction, so a run
 * that dies after the commit finds it recorded and never applies the operation again. Members are not
 * read back: the result needs the id and version only.
 */
export async function runGroupOperation(
  db: Db,
  workspaceId: string,
  op: BulkOperation,
  ctx: BulkRunContext,
  record: RecordInTransaction,
): Promise<GroupOperationOutcome> {
  const caller: ScimCaller = {
    workspaceId,
    actor: ctx.actor,
    publicUrl: '',
    operation: 'POST /scim/v2/Bulk',
  };
  let result: BulkOpResult | undefined;
  try {
    await writeScimGroup(
      db,
      caller,
      op.method,
      { ...(op.id !== undefined ? { id: op.id } : {}), body: op.data, ifMatch: op.version },
      async (tx, role) => {
        result = success(op, role);
        await record(tx, result);
      },
    );
    return { result: result!, recorded: true };
  } catch (error) {
    // Anything else (a lost connection, a lost race to record) fails the job, whose retry runs the
    // operations not yet recorded; a refusal comes before any write and is the operation's outcome.
    if (error instanceof ScimError)
      return {
        result: failure(op, error, op.method === 'POST' ? undefined : (op.id ?? '')),
        recorded: false,
      };
    throw error;
  }
}
