import type { Db } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import type { ProvisionItem, ProvisionResult } from '../../provisioning/engine.js';
import type { EngineLogger } from '../../provisioning/types.js';
import { failure, type BulkOperation, type BulkOpResult } from './types.js';
import { fromScimUser, toScimUser } from '../resources/user-mapper.js';
import { findScimUsers } from '../resources/users.repository.js';
import { patchItem, replaceItem, scimErrorOf, versionOf } from '../resources/users.service.js';

/** One operation of a batch: an engine item, or a result known without the engine. */
export interface Entry {
  index: number;
  op: BulkOperation;
  /** Known before the engine runs (a bad body, an unresolvable reference, a group operation). */
  result?: BulkOpResult;
  item?: ProvisionItem;
}

const SUCCESS: Record<string, string> = {
  created: '201',
  updated: '200',
  unchanged: '200',
  deactivated: '200',
  deleted: '204',
};

export const unexpected = (): ScimError =>
  new ScimError(500, undefined, 'This operation failed because of an unexpected error; retry it.');

const notFound = (id: string) => new ScimError(404, undefined, `User ${id} not found.`);

/**
 * Turns /Users operations into engine items exactly as the single requests do (POST, PUT, PATCH applied
 * to the current resource, DELETE; `version` as If-Match); the targets of PATCHes are read in one
 * query. An operation that cannot become an item gets its result now.
 */
export async function prepareUserEntries(
  deps: { db: Db; publicUrl: string; log: EngineLogger },
  workspaceId: string,
  entries: Entry[],
): Promise<void> {
  const patched = entries
    .filter((e) => !e.result && e.op.method === 'PATCH' && isUuid(e.op.id ?? ''))
    .map((e) => e.op.id!);
  const rows = new Map((await findScimUsers(deps.db, workspaceId, patched)).map((r) => [r.id, r]));
  for (const e of entries) {
    if (e.result) continue;
    const { op } = e;
    const id = op.id ?? '';
    const key = String(e.index);
    try {
      if (op.method !== 'POST' && !isUuid(id)) throw notFound(id);
      let item: ProvisionItem;
      if (op.method === 'POST') item = fromScimUser(op.data, key);
      else if (op.method === 'PUT') item = replaceItem(op.data, id, key);
      else if (op.method === 'DELETE') item = { key, userId: id, op: 'delete' };
      else {
        const row = rows.get(id);
        if (!row) throw notFound(id);
        item = patchItem(toScimUser(row, deps.publicUrl), op.data, id, key);
      }
      const expected = versionOf(op.version);
      if (expected !== undefined) item.expectedVersion = expected;
      else if (op.method === 'PATCH') {
        // Applied to the version read here: a write in between makes the runner apply it again.
        item.expectedVersion = rows.get(id)!.version;
        item.optimistic = true;
      }
      e.item = item;
    } catch (error) {
      if (!(error instanceof ScimError))
        deps.log.error({ err: error, index: e.index }, 'bulk operation failed unexpectedly');
      e.result = failure(op, error instanceof ScimError ? error : unexpected(), isUuid(id) ? id : undefined);
    }
  }
}

/** An engine result as the operation's outcome, with the status and error of the single request. */
export function userOutcome(op: BulkOperation, r: ProvisionResult): BulkOpResult {
  const status = SUCCESS[r.status];
  if (status) {
    return {
      method: op.method,
      resource: op.resource,
      ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
      ...(r.userId || op.id ? { id: r.userId ?? op.id } : {}),
      ...(r.version !== undefined && r.status !== 'deleted' ? { version: `W/"${r.version}"` } : {}),
      status,
    };
  }
  // One batch holds several operations: the engine's "earlier in the same batch" is an earlier operation.
  const error =
    r.errorCode === 'duplicate_in_batch'
      ? new ScimError(
          409,
          'uniqueness',
          `${(r.errorMessage ?? 'This user').replace(/ appears earlier in the same batch\.$/, '')} is taken by an earlier operation of this request.`,
        )
      : scimErrorOf(r, op.id);
  const target = op.id !== undefined && isUuid(op.id) ? op.id : undefined;
  return failure(op, error instanceof ScimError ? error : unexpected(), target);
}
