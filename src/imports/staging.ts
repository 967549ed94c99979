import type { Config } from '../config.js';
import type { DbOrTx } from '../db/index.js';
import { AppError } from '../lib/errors.js';
import { matchKey } from '../lib/text.js';
import { inputCells, mappedValues, type Field, type HeaderMapping } from './pipeline/header.js';
import type { RecordEvent } from './pipeline/records.js';
import { stageRows, type StagedRow } from './rows.repository.js';

/**
 * A chunk of staged rows is flushed at this many rows or this much cell text, whichever comes first:
 * 2,000 rows of 50 KB cells held twice over (the chunk read and the one in flight) crashed the API.
 */
export const STAGING_CHUNK = { rows: 2_000, chars: 4 * 1_048_576 } as const;

const textLength = (cells: string[]): number => {
  let n = 0;
  for (const cell of cells) n += cell.length;
  return n;
};

export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details);

const MISSING_WORDS: Record<Field, string> = {
  email: 'email',
  name: 'name (or first name and last name)',
  givenName: 'givenName (the first name; or map a full-name column to name)',
  familyName: 'familyName (the last name; or map a full-name column to name)',
  role: 'role',
  location: 'location',
  externalId: 'externalId',
};

/**
 * 422 `missing_columns`: the required fields no column gives, the header cells, and for each missing
 * field the column that probably holds it; for a workbook, the sheet read and the visible sheets.
 */
export const missingColumns = (
  missing: Field[],
  found: {
    headers: string[];
    suggestions: Partial<Record<Field, string>>;
    sheet?: string | null;
    sheets?: string[];
  },
) => {
  const where = found.sheets ? `The sheet '${found.sheet}'` : 'The file';
  const others =
    found.sheets && found.sheets.length > 1
      ? ` The workbook's sheets are ${found.sheets.map((s) => `'${s}'`).join(', ')}; choose another with the sheet option.`
      : '';
  return unprocessable(
    'missing_columns',
    `${where} has no column for ${missing.map((f) => MISSING_WORDS[f]).join(' and ')}. ` +
      `Its columns are ${found.headers.map((h) => `'${h}'`).join(', ') || 'none'}: name the right one with the mapping option ` +
      `(such as {"email": "Mail"}), or add the column to the header row (see /v1/imports/template.csv).${others}`,
    { missing, ...found },
  );
};

export const tooManyRows = (limit: number) =>
  new AppError(
    413,
    'too_many_rows',
    `The file has more than ${limit} data rows, the limit for one import; split it into smaller files.`,
    { limit },
  );

export const syncEmptyFile = () =>
  unprocessable(
    'sync_empty_file',
    'A sync with no rows would deactivate every user; the file has a header but no data rows.',
  );

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
 * Stages the data records of a file (what follows its header) in chunks (`STAGING_CHUNK`), one insert in flight while
 * the next chunk is read, so that Node and Postgres work at the same time. Throws 413 `too_many_rows`
 * past IMPORT_MAX_ROWS. Returns the number of data records. Runs inside the caller's transaction.
 */
export async function stageRecords(
  tx: DbOrTx,
  config: Pick<Config, 'importMaxRows'>,
  target: { workspaceId: string; importId: string; mapping: HeaderMapping },
  events: AsyncIterable<RecordEvent>,
): Promise<number> {
  let total = 0;
  let chunk: StagedRow[] = [];
  let chars = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const stage = async (rows: StagedRow[]) => {
    await inFlight;
    inFlight = stageRows(tx, target.workspaceId, target.importId, rows);
    inFlight.catch(() => undefined); // awaited below or at the next chunk; the rollback reports it
  };
  try {
    for await (const event of events) {
      if (event.kind === 'header') continue;
      total += 1;
      if (total > config.importMaxRows) throw tooManyRows(config.importMaxRows);
      chunk.push(toStaged(event, total, target.mapping));
      chars += textLength(event.cells);
      if (chunk.length >= STAGING_CHUNK.rows || chars >= STAGING_CHUNK.chars) {
        await stage(chunk);
        chunk = [];
        chars = 0;
      }
    }
    await stage(chunk);
  } finally {
    // Never leave the transaction with an insert still running on its connection.
    await inFlight.catch(() => undefined);
  }
  await inFlight;
  return total;
}
