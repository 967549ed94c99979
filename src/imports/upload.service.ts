import type { Config } from '../config.js';
import type { Db, DbOrTx } from '../db/index.js';
import { AppError, badRequest } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { matchKey } from '../lib/text.js';
import { findRoleByKey } from '../users/roles.repository.js';
import { isActiveMember } from '../users/users.repository.js';
import { completeKey, type KeyRow } from './idempotency.repository.js';
import * as imports from './imports.repository.js';
import { fingerprint, type ImportOptions } from './options.js';
import { openDecoded, detectEncoding } from './pipeline/decode.js';
import type { HeaderMapping } from './pipeline/header.js';
import type { ResolvedHeader } from './pipeline/mapping.js';
import { readRecords } from './pipeline/records.js';
import { fileStart, sniffBytes } from './pipeline/sniff.js';
import { isZip, peekWorkbook, EXCEL_MAX_ROWS } from './pipeline/workbook.js';
import { defaultRoleWarning, headerResolver, rememberChoices } from './mappings.service.js';
import type { Spooled } from './spool.js';
import { missingColumns, stageRecords, syncEmptyFile, tooManyRows, unprocessable } from './staging.js';
import { storeWorkbook } from './workbooks.repository.js';

export interface UploadInput {
  workspaceId: string;
  actor: string;
  options: ImportOptions;
  fileName: string | null;
  spooled: Spooled;
  idempotencyKey?: string;
  /** The finished request that already holds the Idempotency-Key, if any. */
  holder?: KeyRow;
}

const unsupported = (detected: string) =>
  new AppError(
    415,
    'unsupported_file_type',
    `This looks like ${detected}, not a CSV file or Excel workbook; save the sheet as CSV (comma, semicolon or tab separated) or as an Excel workbook (.xlsx).`,
  );

const noHeader = () =>
  unprocessable(
    'empty_file',
    'The file has no header row; the first row must name the columns (email, name, role, ...).',
  );

/** What the import records about the file, and how its rows reach the staging table. */
interface Accepted {
  format: 'csv' | 'xlsx';
  sheet: string | null;
  /** A workbook's visible sheets. */
  sheets: string[] | null;
  encoding: string;
  delimiter: string;
  header: string[];
  /** Stages the rows now (CSV) or stores the workbook for a worker to convert (xlsx); returns the rows staged. */
  stage(tx: DbOrTx, importId: string, mapping: HeaderMapping): Promise<number>;
  close(): Promise<void>;
}

async function openCsv(config: Config, workspaceId: string, spooled: Spooled): Promise<Accepted> {
  const encoding = await detectEncoding(spooled.path);
  const events = readRecords(openDecoded(spooled.path, encoding));
  const close = async () => {
    await events.return(undefined);
  };
  try {
    const first = await events.next();
    if (first.done || first.value.kind !== 'header') throw noHeader();
    const header = first.value;
    return {
      format: 'csv',
      sheet: null,
      sheets: null,
      encoding,
      delimiter: header.delimiter,
      header: header.cells,
      stage: (tx, importId, mapping) =>
        stageRecords(
          tx,
          config,
          { workspaceId, importId, mapping },
          { [Symbol.asyncIterator]: () => events },
        ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * An .xlsx is only peeked at here (the header and declared size of the sheet to import); the workbook
 * is stored in Postgres with the import and a worker converts the sheet, so the API's memory stays
 * flat whatever the workbook holds. Without a `sheet` option, the sheet is the first visible one whose
 * header resolves to the required fields.
 */
async function openWorkbook(
  config: Config,
  workspaceId: string,
  spooled: Spooled,
  sheet: string | null,
  resolve: (cells: string[]) => Promise<ResolvedHeader>,
): Promise<Accepted> {
  const usable = async (cells: string[]) => {
    try {
      return (await resolve(cells)).missing.length === 0;
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_mapping') return false;
      throw error;
    }
  };
  const peek = await peekWorkbook(spooled.path, { sheet, usable });
  if (!peek.ok) throw unsupported(peek.detected);
  if (!peek.header) throw noHeader();
  const declared = (peek.lastRow ?? 0) - peek.header.row;
  if (declared > config.importMaxRows && (peek.lastRow ?? 0) <= EXCEL_MAX_ROWS) {
    // The sheet's own dimension says so; the worker counts again whatever it says.
    throw tooManyRows(config.importMaxRows);
  }
  return {
    format: 'xlsx',
    sheet: peek.sheet,
    sheets: peek.sheets,
    encoding: 'UTF-8',
    delimiter: ',',
    header: peek.header.cells,
    stage: async (tx, importId) => {
      await storeWorkbook(tx, workspaceId, importId, spooled.path);
      return 0;
    },
    close: async () => undefined,
  };
}

/**
 * Checks a spooled upload and stages it: 415 for what is neither delimited text nor an Excel
 * workbook, 422 for an empty file, missing columns or an unknown default role, 413 past the row limit.
 * Everything is staged in one transaction with the import (and the Idempotency-Key), so a refused
 * upload leaves nothing behind. A workbook's rows are staged later, by the worker that converts it.
 */
export async function acceptUpload(
  db: Db,
  config: Config,
  input: UploadInput,
): Promise<{ replay: boolean; imp: imports.ImportRow }> {
  const { workspaceId, options, spooled } = input;
  const print = fingerprint(spooled.sha256, options);
  if (input.holder) {
    if (input.holder.fingerprint === print && input.holder.import_id) {
      const imp = await imports.findImport(db, workspaceId, input.holder.import_id);
      if (imp) return { replay: true, imp };
    }
    throw new AppError(
      409,
      'idempotency_key_reused',
      'This Idempotency-Key was used in the last 24 hours for another file or other options; use a new key.',
    );
  }
  if (spooled.bytes === 0)
    throw unprocessable(
      'empty_file',
      'The file is empty (0 bytes); export it again with a header row and at least one user.',
    );
  const sample = await fileStart(spooled.path);
  const workbook = isZip(sample);
  if (!workbook) {
    const sniffed = sniffBytes(sample);
    if (!sniffed.ok) throw unsupported(sniffed.detected);
  }
  if (options.defaultRole && !(await findRoleByKey(db, workspaceId, matchKey(options.defaultRole)))) {
    throw unprocessable(
      'unknown_default_role',
      `defaultRole '${options.defaultRole}' does not exist in this workspace; create it or choose an existing role.`,
      { field: 'defaultRole' },
    );
  }
  // The summary goes out under the service's sender: only to someone who has joined the workspace.
  if (options.notifyEmail && !(await isActiveMember(db, workspaceId, matchKey(options.notifyEmail)))) {
    throw badRequest(
      'notify_email_not_member',
      `notifyEmail '${options.notifyEmail}' is not the e-mail of an active user of this workspace; the summary goes only to the workspace's own users.`,
      { field: 'notifyEmail' },
    );
  }
  if (!workbook && options.sheet)
    throw badRequest(
      'invalid_option',
      'sheet chooses a sheet of an Excel workbook; this file is CSV, which has none. Leave sheet out.',
      { field: 'sheet' },
    );
  const resolve = headerResolver(db, workspaceId, {
    ...(options.mapping ? { explicit: options.mapping } : {}),
    ...(options.ignore ? { ignore: options.ignore } : {}),
  });
  const file = workbook
    ? await openWorkbook(config, workspaceId, spooled, options.sheet, resolve)
    : await openCsv(config, workspaceId, spooled);
  try {
    const mapping = await resolve(file.header);
    if (mapping.missing.length > 0)
      throw missingColumns(mapping.missing, {
        headers: mapping.headers,
        suggestions: mapping.suggestions,
        ...(file.sheets ? { sheet: file.sheet, sheets: file.sheets } : {}),
      });
    const warnings = [
      ...mapping.warnings,
      ...(await defaultRoleWarning(db, workspaceId, options, mapping.fields)),
    ];
    return await db.transaction().execute(async (tx) => {
      const imp = await imports.insertImport(tx, {
        workspace_id: workspaceId,
        id: newId(),
        mode: options.mode,
        dry_run: options.dryRun,
        send_invites: options.sendInvites,
        default_role: options.defaultRole,
        notify_email: options.notifyEmail,
        confirm_deactivations: options.confirmDeactivations,
        file_name: input.fileName,
        format: file.format,
        sheet: file.sheet,
        encoding: file.encoding,
        delimiter: file.delimiter,
        columns: mapping.inputColumns,
        mapping: mapping.fields,
        mapping_sources: mapping.sources,
        warnings,
        total_rows: 0,
        failed: 0,
        processed_rows: 0,
        applied_from: null,
        created_by: input.actor,
      });
      const total = await file.stage(tx, imp.id, mapping);
      if (file.format === 'csv') {
        if (total === 0 && options.mode === 'sync') throw syncEmptyFile();
        await imports.setTotal(tx, workspaceId, imp.id, total);
        await imports.recount(tx, workspaceId, imp.id);
      }
      // An accepted upload that writes (not a preview) teaches the workspace its explicit choices.
      if (!options.dryRun)
        await rememberChoices(tx, workspaceId, {
          columns: mapping.inputColumns,
          mapping: mapping.fields,
          mapping_sources: mapping.sources,
        });
      if (input.idempotencyKey) await completeKey(tx, workspaceId, input.idempotencyKey, print, imp.id);
      return { replay: false, imp: (await imports.findImport(tx, workspaceId, imp.id))! };
    });
  } finally {
    await file.close();
  }
}
