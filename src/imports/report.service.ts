import type { Readable } from 'node:stream';
import type { Db } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { importNotFound, invitationState } from './imports.service.js';
import { findImport } from './imports.repository.js';
import { reportStream, type ReportRow } from './pipeline/report-writer.js';
import { listRows } from './rows.repository.js';

const PAGE = 2_000;

async function* reportRows(db: Db, workspaceId: string, importId: string): AsyncGenerator<ReportRow> {
  let after = 0;
  for (;;) {
    const rows = await listRows(db, workspaceId, importId, { afterIdx: after }, PAGE);
    for (const r of rows) {
      yield {
        cells: r.cells,
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
    reportRows(db, workspaceId, importId),
  );
  const base =
    (imp.file_name ?? 'import')
      .replace(/\.[^.]*$/, '')
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 80) || 'import';
  return { stream, fileName: `${base}-report.csv` };
}
