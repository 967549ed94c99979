import type { Readable } from 'node:stream';
import type { Db } from '../db/index.js';
import type { RowFixes } from '../db/tables.js';
import { AppError } from '../lib/errors.js';
import { importNotFound, invitationState } from './imports.service.js';
import { findImport } from './imports.repository.js';
import { reportStream, type ReportRow } from './pipeline/report-writer.js';
import { listRows } from './rows.repository.js';

const PAGE = 2_000;

/**
 * A row's input cells as they were run: a value corrected in the app replaces the file's in the column
 * that field is read from, so that uploading the report again carries the correction. What the file
 * said is kept in the row's `fixes` (GET /v1/imports/:id/rows).
 */
function cellsAsRun(cells: string[], fixes: RowFixes | null, mapping: Record<string, number>): string[] {
  if (!fixes) return cells;
  const out = [...cells];
  for (const [field, fix] of Object.entries(fixes)) {
    const index = mapping[field];
    if (index !== undefined && index < out.length) out[index] = fix?.to ?? '';
  }
  return out;
}

async function* reportRows(
  db: Db,
  workspaceId: string,
  importId: string,
  mapping: Record<string, number>,
): AsyncGenerator<ReportRow> {
  let after = 0;
  for (;;) {
    const rows = await listRows(db, workspaceId, importId, { afterIdx: after }, PAGE);
    for (const r of rows) {
      yield {
        cells: cellsAsRun(r.cells, r.fixes, mapping),
        row: r.row_number,
        status: r.status,
        invitation: invitationState(r.invitation, r.send_state),
        errorCode: r.error_code,
        errorMessage: r.error_message,
        userId: r.user_id,
      };
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.idx;
  }
}

/** report.csv of an import, streamed page by page from Postgres. */
export async function importReport(
  db: Db,
  workspaceId: string,
  importId: string,
): Promise<{ stream: Readable; fileName: string }> {
  const imp = await findImport(db, workspaceId, importId);
  if (!imp) throw importNotFound(importId);
  if (imp.purged_at) {
    throw new AppError(
      410,
      'import_purged',
      'The rows of this import were deleted after the retention period; only its summary is kept.',
    );
  }
  const stream = reportStream(
    { delimiter: imp.delimiter, inputColumns: imp.columns },
    reportRows(db, workspaceId, importId, imp.mapping),
  );
  const base =
    (imp.file_name ?? 'import')
      .replace(/\.[^.]*$/, '')
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 80) || 'import';
  return { stream, fileName: `${base}-report.csv` };
}
