import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { matchKey } from '../lib/text.js';
import { findRoleByKey } from '../users/roles.repository.js';
import { completeKey, type KeyRow } from './idempotency.repository.js';
import * as imports from './imports.repository.js';
import { fingerprint, type ImportOptions } from './options.js';
import { openDecoded, detectEncoding } from './pipeline/decode.js';
import { inputCells, mapHeader, mappedValues, type HeaderMapping } from './pipeline/header.js';
import { readRecords, type RecordEvent } from './pipeline/records.js';
import { sniffFile } from './pipeline/sniff.js';
import { stageRows, type StagedRow } from './rows.repository.js';
import type { Spooled } from './spool.js';

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

const CHUNK = 2_000;
const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details);

function toStaged(
  event: Exclude<RecordEvent, { kind: 'header' }>,
  idx: number,
  mapping: HeaderMapping,
): StagedRow {
  const cells = inputCells(event.cells, mapping);
  if (event.kind === 'malformed') {
    return {
      idx,
      row_number: event.row,
      cells,
      email: null,
      email_key: null,
      name: null,
      given_name: null,
      family_name: null,
      role: null,
      location: null,
      external_id: null,
      status: 'failed',
      error_code: 'malformed_row',
      error_message: event.reason,
    };
  }
  const v = mappedValues(event.cells, mapping);
  const or = (s: string | undefined) => (s ? s : null);
  return {
    idx,
    row_number: event.row,
    cells,
    email: or(v.email),
    email_key: v.email ? matchKey(v.email) : null,
    name: or(v.name),
    given_name: or(v.givenName),
    family_name: or(v.familyName),
    role: or(v.role),
    location: or(v.location),
    external_id: or(v.externalId),
    status: 'pending',
    error_code: null,
    error_message: null,
  };
}

/**
 * Checks a spooled upload and stages it: 415 for what is not delimited text, 422 for an empty file,
 * missing columns or an unknown default role, 413 past the row limit. Everything is staged in one
 * transaction with the import (and the Idempotency-Key), so a refused upload leaves nothing behind.
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
  const sniffed = await sniffFile(spooled.path);
  if (!sniffed.ok) {
    throw new AppError(
      415,
      'unsupported_file_type',
      `This looks like ${sniffed.detected}, not a CSV file; export or save the sheet as CSV (comma, semicolon or tab separated).`,
    );
  }
  if (options.defaultRole && !(await findRoleByKey(db, workspaceId, matchKey(options.defaultRole)))) {
    throw unprocessable(
      'unknown_default_role',
      `defaultRole '${options.defaultRole}' does not exist in this workspace; create it or choose an existing role.`,
      { field: 'defaultRole' },
    );
  }
  const encoding = await detectEncoding(spooled.path);
  const events = readRecords(openDecoded(spooled.path, encoding));
  try {
    const first = await events.next();
    if (first.done || first.value.kind !== 'header') {
      throw unprocessable(
        'empty_file',
        'The file has no header row; the first row must name the columns (email, name, role, ...).',
      );
    }
    const header = first.value;
    const mapping = mapHeader(header.cells);
    if (mapping.missing.length > 0) {
      throw unprocessable(
        'missing_columns',
        `The file has no column for ${mapping.missing.join(' and ')}; add ${mapping.missing.length > 1 ? 'them' : 'it'} to the header row. Download /v1/imports/template.csv for an example.`,
        {
          missing: mapping.missing,
        },
      );
    }
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
        encoding,
        delimiter: header.delimiter,
        columns: mapping.inputColumns,
        mapping: mapping.fields,
        total_rows: 0,
        failed: 0,
        processed_rows: 0,
        applied_from: null,
        created_by: input.actor,
      });
      let total = 0;
      let chunk: StagedRow[] = [];
      // One insert in flight while the next chunk is parsed: Node and Postgres work at the same time.
      let inFlight: Promise<void> = Promise.resolve();
      const stage = async (rows: StagedRow[]) => {
        await inFlight;
        inFlight = stageRows(tx, workspaceId, imp.id, rows);
        inFlight.catch(() => undefined); // awaited below or at the next chunk; the rollback reports it
      };
      try {
        for await (const event of events) {
          if (event.kind === 'header') continue;
          total += 1;
          if (total > config.importMaxRows) {
            throw new AppError(
              413,
              'too_many_rows',
              `The file has more than ${config.importMaxRows} data rows, the limit for one import; split it into smaller files.`,
              {
                limit: config.importMaxRows,
              },
            );
          }
          chunk.push(toStaged(event, total, mapping));
          if (chunk.length >= CHUNK) {
            await stage(chunk);
            chunk = [];
          }
        }
        await stage(chunk);
      } finally {
        // Never leave the transaction with an insert still running on its connection.
        await inFlight.catch(() => undefined);
      }
      await inFlight;
      if (total === 0 && options.mode === 'sync') {
        throw unprocessable(
          'sync_empty_file',
          'A sync with no rows would deactivate every user; the file has a header but no data rows.',
        );
      }
      await imports.setTotal(tx, workspaceId, imp.id, total);
      await imports.recount(tx, workspaceId, imp.id);
      if (input.idempotencyKey) await completeKey(tx, workspaceId, input.idempotencyKey, print, imp.id);
      return { replay: false, imp: (await imports.findImport(tx, workspaceId, imp.id))! };
    });
  } finally {
    await events.return(undefined);
  }
}
