import type { DbOrTx } from '../db/index.js';
import { newId } from '../lib/ids.js';
import { insertAuditEvents } from '../provisioning/users.repository.js';
import * as imports from './imports.repository.js';

export type EndStatus = 'completed' | 'completed_with_errors' | 'failed' | 'cancelled';

/**
 * The journal entry of an import that ends (and the event it becomes): `import.completed` or
 * `import.failed` on the import itself, or, when a revert completes, `import.reverted` on the import it
 * undid. A dry run changed nothing and a cancel is no outcome: neither has one.
 */
function entryOf(imp: imports.ImportRow, previous: string) {
  if (imp.dry_run || imp.status === 'cancelled') return undefined;
  const revert = imp.kind === 'revert';
  const failed = imp.status === 'failed';
  const counts = {
    created: imp.created,
    updated: imp.updated,
    unchanged: imp.unchanged,
    skipped: imp.skipped,
    failed: imp.failed,
    deactivated: imp.deactivated,
    deleted: imp.deleted,
    invited: imp.invited,
  };
  const reverted = revert && !failed && imp.revert_of !== null;
  return {
    source: revert ? `revert:${imp.id}` : `csv:${imp.id}`,
    row: {
      id: newId(),
      action: failed ? 'import.failed' : reverted ? 'import.reverted' : 'import.completed',
      user_id: null,
      target_type: 'import',
      target_id: reverted ? imp.revert_of : imp.id,
      changes: reverted ? null : { status: { from: previous, to: imp.status } },
      details: {
        status: imp.status,
        counts,
        ...(failed ? { error: imp.error } : {}),
        ...(reverted ? { revertId: imp.id } : {}),
      },
    },
  };
}

/**
 * Ends a queued or processing import in `status` (with `error` for a failure) and writes its journal
 * entry in the same transaction. An import that another run already ended is left as it is and
 * nothing is written twice: returns undefined then.
 */
export async function endImport(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  status: EndStatus,
  error?: { code: string; message: string },
): Promise<imports.ImportRow | undefined> {
  if (!db.isTransaction) {
    return db.transaction().execute((tx) => endImport(tx, workspaceId, importId, status, error));
  }
  const before = await imports.lockImport(db, workspaceId, importId);
  if (!before || (before.status !== 'queued' && before.status !== 'processing')) return undefined;
  if (error) await imports.setImportError(db, workspaceId, importId, status, error);
  const ended = await imports.setImport(db, workspaceId, importId, { status, finished_at: new Date() });
  const entry = entryOf(ended, before.status);
  if (entry) await insertAuditEvents(db, workspaceId, ended.created_by, entry.source, [entry.row]);
  return ended;
}
