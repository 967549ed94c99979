import type { Db } from '../db/index.js';
import { ROW_STATUSES, type Import, type ImportRow } from '../api/imports.js';
import type { RowStatus } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../lib/pagination.js';
import * as imports from './imports.repository.js';
import { importNotFound } from './not-found.js';
import { startRevert } from './revert.service.js';
import { rememberChoices } from './mappings.service.js';
import { copyRows, listRows, resetFailedRows, type ListedRow } from './rows.repository.js';

export const toImport = (r: imports.ImportRow): Import => ({
  id: r.id,
  status: r.status,
  mode: r.mode,
  dryRun: r.dry_run,
  sendInvites: r.send_invites,
  fileName: r.file_name,
  format: r.format,
  sheet: r.sheet,
  encoding: r.encoding,
  delimiter: r.delimiter,
  columns: r.columns,
  mapping: Object.fromEntries(
    Object.entries(r.mapping)
      .filter(([, index]) => r.columns[index] !== undefined)
      .map(([field, index]) => [field, r.columns[index]!]),
  ),
  mappingSources: Object.fromEntries(
    Object.entries(r.mapping_sources).filter(([field]) => r.columns[r.mapping[field] ?? -1] !== undefined),
  ),
  warnings: r.warnings,
  totalRows: r.total_rows,
  processedRows: r.processed_rows,
  counts: {
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    skipped: r.skipped,
    failed: r.failed,
    deactivated: r.deactivated,
    deleted: r.deleted,
    invited: r.invited,
  },
  kind: r.kind,
  revertOf: r.revert_of,
  revertedBy: r.reverted_by,
  error: r.error,
  createdAt: r.created_at.toISOString(),
  startedAt: r.started_at?.toISOString() ?? null,
  finishedAt: r.finished_at?.toISOString() ?? null,
});

export { importNotFound };

export async function getImport(db: Db, workspaceId: string, id: string): Promise<Import> {
  const row = await imports.findImport(db, workspaceId, id);
  if (!row) throw importNotFound(id);
  return toImport(row);
}

export async function listImports(
  db: Db,
  workspaceId: string,
  query: { limit?: string; cursor?: string },
): Promise<Page<Import>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['uuid']);
  const rows = await imports.listImports(db, workspaceId, limit + 1, cursor?.[0] as string | undefined);
  return toPage(rows, limit, (r) => [r.id], toImport);
}

type SendState = 'queued' | 'sending' | 'sent' | 'failed' | 'not_sent' | null;

/** A row's invitation as the report shows it: read from the invitation itself, not written back per e-mail. */
export function invitationState(
  written: 'queued' | 'not_sent' | null,
  sendState: SendState,
): ImportRow['invitation'] {
  if (written !== 'queued') return written;
  if (sendState === 'sent') return 'sent';
  if (sendState === 'failed') return 'failed';
  if (sendState === 'not_sent') return 'not_sent';
  return 'queued';
}

export async function listImportRows(
  db: Db,
  workspaceId: string,
  importId: string,
  query: { limit?: string; cursor?: string; status?: string },
): Promise<Page<ImportRow>> {
  await getImport(db, workspaceId, importId);
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['int']);
  if (query.status !== undefined && !(ROW_STATUSES as readonly string[]).includes(query.status)) {
    throw new AppError(400, 'invalid_status', `status must be one of ${ROW_STATUSES.join(', ')}.`, {
      field: 'status',
    });
  }
  const rows = await listRows(
    db,
    workspaceId,
    importId,
    { status: query.status as RowStatus | undefined, afterIdx: cursor?.[0] as number | undefined },
    limit + 1,
  );
  return toPage(rows, limit, (r) => [r.idx], toImportRow);
}

/** The ImportRow of a staged row (with its invitation's delivery state, when it has one). */
export function toImportRow(r: ListedRow): ImportRow {
  return {
    row: r.row_number,
    email: r.email,
    name: r.name ?? ([r.given_name, r.family_name].filter(Boolean).join(' ') || null),
    role: r.role,
    location: r.location,
    status: r.status,
    invitation: invitationState(r.invitation, r.send_state),
    errorCode: r.error_code,
    errorMessage: r.error_message,
    userId: r.user_id,
    fixes: r.fixes ?? null,
  };
}

/** Asks a running import to stop at its next batch boundary; a queued one is cancelled at once. */
export async function cancelImport(db: Db, workspaceId: string, id: string): Promise<Import> {
  return db.transaction().execute(async (tx) => {
    const row = await imports.lockImport(tx, workspaceId, id);
    if (!row) throw importNotFound(id);
    if (row.status === 'queued') {
      return toImport(
        await imports.setImport(tx, workspaceId, id, {
          status: 'cancelled',
          finished_at: new Date(),
          cancel_requested: true,
        }),
      );
    }
    if (row.status === 'processing')
      return toImport(await imports.setImport(tx, workspaceId, id, { cancel_requested: true }));
    throw new AppError(
      409,
      'import_not_cancellable',
      `This import is ${row.status}; only a queued or processing import can be cancelled.`,
    );
  });
}

const RETRYABLE = ['completed_with_errors', 'failed', 'cancelled'];

/** Re-runs failed rows (not in-file duplicates) and pending ones, under the same id, as a new attempt. */
export async function retryImport(db: Db, workspaceId: string, id: string): Promise<imports.ImportRow> {
  return db.transaction().execute(async (tx) => {
    const row = await imports.lockImport(tx, workspaceId, id);
    if (!row) throw importNotFound(id);
    if (!RETRYABLE.includes(row.status) || row.purged_at) {
      throw new AppError(
        409,
        'import_not_retryable',
        `This import is ${row.status}; only an import that is completed_with_errors, failed or cancelled can be retried.`,
      );
    }
    if (row.format === 'xlsx' && row.total_rows === 0 && row.error) {
      throw new AppError(
        409,
        'import_not_retryable',
        `This workbook could not be read (${row.error.code}), so it has no rows to retry; correct the file and upload it again.`,
      );
    }
    await resetFailedRows(tx, workspaceId, id);
    await imports.recount(tx, workspaceId, id);
    return imports.setImport(tx, workspaceId, id, {
      status: 'queued',
      attempt: row.attempt + 1,
      cancel_requested: false,
      error: null,
      finished_at: null,
    });
  });
}

/** Runs a finished dry run for real as a new import, from its staged rows (no second upload). */
export async function applyDryRun(
  db: Db,
  workspaceId: string,
  id: string,
  actor: string,
): Promise<imports.ImportRow> {
  // A revert's dry run is applied as a new revert of the same import, planned afresh against the users
  // as they are now (start checks again that it was not reverted meanwhile).
  const found = await imports.findImport(db, workspaceId, id);
  if (
    found?.kind === 'revert' &&
    found.dry_run &&
    ['completed', 'completed_with_errors'].includes(found.status)
  )
    return startRevert(db, workspaceId, found.revert_of!, actor, false);
  return db.transaction().execute(async (tx) => {
    const source = await imports.findImport(tx, workspaceId, id);
    if (!source) throw importNotFound(id);
    if (
      !source.dry_run ||
      !['completed', 'completed_with_errors'].includes(source.status) ||
      source.purged_at
    ) {
      throw new AppError(
        409,
        'import_not_applicable',
        'Only a finished dry run (completed or completed_with_errors, not purged) can be applied.',
      );
    }
    const newImportId = newId();
    const created = await imports.insertImport(tx, {
      workspace_id: workspaceId,
      id: newImportId,
      mode: source.mode,
      dry_run: false,
      send_invites: source.send_invites,
      default_role: source.default_role,
      notify_email: source.notify_email,
      confirm_deactivations: source.confirm_deactivations,
      file_name: source.file_name,
      format: source.format,
      sheet: source.sheet,
      encoding: source.encoding,
      delimiter: source.delimiter,
      columns: source.columns,
      mapping: source.mapping,
      mapping_sources: source.mapping_sources,
      warnings: source.warnings,
      total_rows: source.total_rows,
      failed: 0,
      processed_rows: 0,
      applied_from: source.id,
      created_by: actor,
    });
    await copyRows(tx, workspaceId, source.id, newImportId);
    // Applying a preview accepts it: its explicit column choices are remembered, as a real upload's are.
    await rememberChoices(tx, workspaceId, source);
    await imports.recount(tx, workspaceId, newImportId);
    return created;
  });
}
