import { stringify } from 'csv-stringify';
import { Readable, pipeline } from 'node:stream';
import { neutralise } from './formula.js';
import { REPORT_COLUMNS } from './header.js';

export interface ReportRow {
  /** The row's input cells in `inputColumns` order; fewer are padded, more are cut (a malformed row). */
  cells: string[];
  /** Spreadsheet row number; null for a sync deactivation, which has no row in the file. */
  row: number | null;
  status: string;
  invitation: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  userId: string | null;
}

export interface ReportOptions {
  delimiter: string;
  inputColumns: string[];
}

/** The six report columns, each suffixed with `_` until no input column (compared as `mapHeader` does) has its name. */
export function reportColumns(inputColumns: string[]): string[] {
  const taken = new Set(inputColumns.map((c) => c.trim().toLowerCase()));
  return REPORT_COLUMNS.map((name) => {
    let column: string = name;
    while (taken.has(column)) column += '_';
    taken.add(column);
    return column;
  });
}

async function* records(opts: ReportOptions, rows: AsyncIterable<ReportRow>): AsyncGenerator<string[]> {
  yield [...opts.inputColumns, ...reportColumns(opts.inputColumns)].map(neutralise);
  const width = opts.inputColumns.length;
  for await (const r of rows) {
    const cells = Array.from({ length: width }, (_, i) => r.cells[i] ?? '');
    const added = [
      r.row === null ? '' : String(r.row),
      r.status,
      r.invitation,
      r.errorCode,
      r.errorMessage,
      r.userId,
    ];
    yield [...cells, ...added.map((cell) => cell ?? '')].map(neutralise);
  }
}

/**
 * report.csv, streamed: UTF-8 with BOM (so Excel reads it as UTF-8), CRLF, the input's delimiter, the
 * input's columns then the six report columns, one record per row. Fields holding the delimiter, a
 * quote, CR or LF are quoted (RFC 4180); every cell, input or added, gets the formula guard. Destroying
 * the returned stream (a client gone) ends the iteration of `rows`.
 */
export function reportStream(opts: ReportOptions, rows: AsyncIterable<ReportRow>): Readable {
  const stringifier = stringify({
    bom: true,
    delimiter: opts.delimiter,
    record_delimiter: 'windows',
    // With a record_delimiter given csv-stringify would only quote fields holding "\r\n", not a lone LF.
    quote_record_delimiter: true,
  });
  pipeline(Readable.from(records(opts, rows)), stringifier, () => undefined);
  return stringifier;
}

const BOM = '\uFEFF';
const TEMPLATE = [
  ['email', 'first name', 'last name', 'role', 'location', 'external id'],
  ['ada.lovelace@example.com', 'Ada', 'Lovelace', 'Member', 'London', 'E-1001'],
  ['grace.hopper@example.com', 'Grace', 'Hopper', '', '', 'E-1002'],
];

/**
 * GET /v1/imports/template.csv: UTF-8 with BOM, CRLF, every column an import reads under the name it
 * is documented by (each maps through `mapHeader`). The second example leaves role and location empty
 * to show they are optional (the default role applies).
 */
export function templateCsv(): string {
  return BOM + TEMPLATE.map((record) => record.join(',')).join('\r\n') + '\r\n';
}
