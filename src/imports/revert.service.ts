import type { Db, DbOrTx } from '../db/index.js';
import { AppError, conflict } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { ProvisionItem, ProvisionResult } from '../provisioning/engine.js';
import { importNotFound } from './not-found.js';
import * as imports from './imports.repository.js';
import { journalOf, namesOf, originalStatuses, stageRevertRows } from './revert.repository.js';

const FINISHED = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

const notRevertible = (message: string) => new AppError(409, 'import_not_revertible', message);

/**
 * Starts undoing an import: a new import of kind `revert` whose rows are the original's rows that
 * changed a user (created, updated, deactivated), each with the user's version the original left. The
 * worker runs it through the engine like any import (batches, progress, cancel, report, retry). A revert
 * that is not a dry run marks the original `reverted_by` in the same transaction, so a second is refused.
 */
export async function startRevert(
  db: Db,
  workspaceId: string,
  originalId: string,
  actor: string,
  dryRun: boolean,
): Promise<imports.ImportRow> {
  return db.transaction().execute(async (tx) => {
    const original = await imports.lockImport(tx, workspaceId, originalId);
    if (!original) throw importNotFound(originalId);
    if (original.kind === 'revert') throw notRevertible('A revert cannot itself be reverted.');
    if (original.dry_run) throw notRevertible('A dry run changed nothing, so there is nothing to revert.');
    if (!FINISHED.includes(original.status)) {
      throw notRevertible(
        `This import is ${original.status}; it can be reverted once it has finished (or after you cancel it).`,
      );
    }
    if (original.purged_at) {
      throw new AppError(
        410,
        'import_expired',
        'The rows of this import were deleted after the retention period, so what it did can no longer be undone.',
      );
    }
    if (original.reverted_by) {
      throw conflict(
        'import_already_reverted',
        `This import was already reverted by import ${original.reverted_by}.`,
        {
          revertedBy: original.reverted_by,
        },
      );
    }
    const id = newId();
    await imports.insertImport(tx, {
      workspace_id: workspaceId,
      id,
      kind: 'revert',
      revert_of: original.id,
      mode: 'upsert',
      dry_run: dryRun,
      send_invites: true,
      default_role: null,
      notify_email: null,
      confirm_deactivations: null,
      file_name: original.file_name,
      format: original.format,
      sheet: original.sheet,
      encoding: original.encoding,
      delimiter: original.delimiter,
      columns: original.columns,
      mapping: original.mapping,
      // The undo reports by the original's columns; warnings were about the original's upload.
      mapping_sources: original.mapping_sources,
      warnings: [],
      total_rows: 0,
      failed: 0,
      processed_rows: 0,
      applied_from: null,
      created_by: actor,
    });
    const total = await stageRevertRows(tx, workspaceId, original.id, id);
    const revert = await imports.setImport(tx, workspaceId, id, { total_rows: total });
    if (!dryRun) await imports.setImport(tx, workspaceId, original.id, { reverted_by: id });
    return revert;
  });
}

/** Column of the journal → engine item field, for the fields an import can change. */
const RESTORE: Record<string, keyof ProvisionItem> = {
  user_name: 'userName',
  email: 'email',
  given_name: 'givenName',
  family_name: 'familyName',
  display_name: 'displayName',
  external_id: 'externalId',
};

/**
 * The engine items that undo a batch of a revert's rows. A created user is deleted; an updated or
 * deactivated one gets back each field the import changed, as its journal event recorded it. Each
 * item holds only if the user is still at the version the import left (else `changed_since_import`).
 */
export async function revertItems(
  db: DbOrTx,
  imp: imports.ImportRow,
  rows: { idx: number; user_id: string | null; user_version: number | null }[],
): Promise<ProvisionItem[]> {
  const originalId = imp.revert_of!;
  const statuses = await originalStatuses(
    db,
    imp.workspace_id,
    originalId,
    rows.map((r) => r.idx),
  );
  const userIds = rows.map((r) => r.user_id).filter((id): id is string => id !== null);
  const journal = await journalOf(db, imp.workspace_id, `csv:${originalId}`, userIds);
  const roleIds = new Set<string>();
  const locationIds = new Set<string>();
  for (const changes of journal.values()) {
    const role = changes.direct_role_id?.from;
    const location = changes.location_id?.from;
    if (typeof role === 'string') roleIds.add(role);
    if (typeof location === 'string') locationIds.add(location);
  }
  const names = await namesOf(db, imp.workspace_id, [...roleIds], [...locationIds]);

  return rows.map((r): ProvisionItem => {
    const key = String(r.idx);
    // Without the version the import left (a row written before versions were kept), whether the user
    // changed since cannot be told: left alone rather than guessed, as a row without its journal is.
    if (r.user_version === null) return { key, op: 'patch', userId: NO_JOURNAL };
    const base = { key, userId: r.user_id ?? '', expectedVersion: r.user_version };
    if (statuses.get(r.idx) === 'created') return { ...base, op: 'delete' };
    const changes = r.user_id ? journal.get(r.user_id) : undefined;
    // Without its journal event (an import from before imports were journaled) nothing can be restored:
    // an item naming no user, which the engine answers not_found and revertOutcome reads as such.
    if (!changes) return { ...base, op: 'patch', userId: NO_JOURNAL };
    const item: ProvisionItem = { ...base, op: 'patch' };
    for (const [column, field] of Object.entries(RESTORE)) {
      if (changes[column]) (item as unknown as Record<string, unknown>)[field] = changes[column].from ?? null;
    }
    if (changes.direct_role_id) {
      const from = changes.direct_role_id.from;
      item.role = typeof from === 'string' ? (names.roles.get(from) ?? `(deleted role ${from})`) : null;
    }
    if (changes.location_id) {
      const from = changes.location_id.from;
      item.location =
        typeof from === 'string' ? (names.locations.get(from) ?? `(deleted location ${from})`) : null;
    }
    if (changes.status) item.active = changes.status.from !== 'deactivated';
    return item;
  });
}

const NO_JOURNAL = '';

/** A revert's engine result as the row records it: a user changed since the import is left alone. */
export function revertOutcome(item: ProvisionItem, r: ProvisionResult): Partial<ProvisionResult> {
  // An item marked as unknowable never names a user, whatever the engine answered for it.
  if (item.userId === NO_JOURNAL) {
    return {
      status: 'skipped',
      errorCode: 'not_journaled',
      errorMessage:
        'This row was imported before imports were journaled and versioned: what came before it, and whether the user changed since, are unknown, so the revert left the user alone.',
    };
  }
  if (r.errorCode === 'precondition_failed') {
    return {
      status: 'skipped',
      errorCode: 'changed_since_import',
      errorMessage:
        'This user changed after the import (an edit, a sync, or an accepted invitation), so the revert left them alone.',
    };
  }
  if (r.errorCode === 'not_found') {
    return {
      status: 'skipped',
      errorCode: 'changed_since_import',
      errorMessage: 'This user was deleted after the import; there is nothing left to revert.',
    };
  }
  return {};
}
