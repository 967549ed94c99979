import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import * as imports from './imports.repository.js';
import { endImport } from './outcome.service.js';
import { storedHeader } from './pipeline/mapping.js';
import { readWorkbookRecords } from './pipeline/workbook.js';
import { missingColumns, stageRecords, syncEmptyFile, unprocessable } from './staging.js';
import { deleteWorkbook, lockConversion, workbookChunks, writeWorkbook } from './workbooks.repository.js';

export type ConvertOutcome =
  | { kind: 'none' }
  | { kind: 'converted'; rows: number }
  | { kind: 'failed'; error: { code: string; message: string } };

/**
 * Converts an uploaded workbook's sheet into staged rows, as the upload of a CSV stages them: in one
 * transaction that also deletes the stored workbook, so a crash mid-way leaves the workbook to convert
 * again and never half its rows. A workbook that cannot be imported (damaged, too many rows, no rows
 * for a sync) fails the import with the reason, and is deleted. Does nothing for a CSV import or a
 * workbook already converted. Memory stays flat: the sheet is streamed (only Excel's shared-string
 * table is held, as the format requires).
 */
export async function convertWorkbook(
  db: Db,
  config: Pick<Config, 'importMaxRows'>,
  workspaceId: string,
  importId: string,
): Promise<ConvertOutcome> {
  const imp = await imports.findImport(db, workspaceId, importId);
  if (!imp || imp.format !== 'xlsx' || !['queued', 'processing'].includes(imp.status))
    return { kind: 'none' };
  const chunks = await workbookChunks(db, workspaceId, importId);
  if (chunks === 0) return { kind: 'none' };
  await imports.setImport(db, workspaceId, importId, {
    status: 'processing',
    started_at: imp.started_at ?? new Date(),
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loopit-workbook-'));
  const file = path.join(dir, 'workbook.xlsx');
  try {
    await writeWorkbook(db, workspaceId, importId, chunks, file);
    return await db.transaction().execute(async (tx) => {
      // One conversion at a time per import (a second waits, then finds the workbook gone); the import
      // row itself stays unlocked, so a cancel is answered at once.
      await lockConversion(tx, importId);
      if ((await workbookChunks(tx, workspaceId, importId)) === 0) return { kind: 'none' } as const;
      const events = readWorkbookRecords(file, imp.sheet ?? '');
      try {
        const first = await events.next();
        if (first.done || first.value.kind !== 'header') {
          throw unprocessable(
            'empty_file',
            `The sheet '${imp.sheet}' has no header row; the first row must name the columns (email, name, role, ...).`,
          );
        }
        // The upload resolved this header (options, saved mappings, aliases) and recorded the result.
        const mapping = storedHeader(first.value.cells, imp.mapping);
        if (mapping.missing.length > 0)
          throw missingColumns(mapping.missing, {
            headers: mapping.inputColumns,
            suggestions: {},
            sheet: imp.sheet,
          });
        const rows = await stageRecords(
          tx,
          config,
          { workspaceId, importId, mapping },
          { [Symbol.asyncIterator]: () => events },
        );
        if (rows === 0 && imp.mode === 'sync') throw syncEmptyFile();
        await imports.setHeader(tx, workspaceId, importId, { columns: mapping.inputColumns });
        await imports.setTotal(tx, workspaceId, importId, rows);
        await imports.recount(tx, workspaceId, importId);
        await deleteWorkbook(tx, workspaceId, importId);
        return { kind: 'converted', rows } as const;
      } finally {
        await events.return(undefined);
      }
    });
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    const reason = { code: error.code, message: error.message };
    await db.transaction().execute(async (tx) => {
      await endImport(tx, workspaceId, importId, 'failed', reason);
      await deleteWorkbook(tx, workspaceId, importId);
    });
    return { kind: 'failed', error: reason };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
