import { AppError } from '../../lib/errors.js';

export type CsvErrorCode = 'unterminated_quote' | 'record_too_large' | 'invalid_csv' | 'too_many_columns';

/**
 * A file that cannot be read on past this point. 422 so that, thrown while the upload is still being
 * staged, the error handler answers it as it is; `row` is the spreadsheet row where the problem starts.
 */
export class CsvError extends AppError {
  declare readonly code: CsvErrorCode;

  constructor(
    code: CsvErrorCode,
    message: string,
    readonly row: number,
    readonly limit?: number,
  ) {
    super(422, code, message, limit === undefined ? { row } : { row, limit });
    this.name = 'CsvError';
  }
}

const QUOTE_HINT = 'Close it, or write a quote inside a quoted field as two quotes ("").';

export const unterminatedQuote = (row: number, limit?: number): CsvError =>
  new CsvError(
    'unterminated_quote',
    limit === undefined
      ? `The quote (") that opens a field in row ${row} is never closed. ${QUOTE_HINT}`
      : `The quote (") that opens a field in row ${row} is not closed within ${limit} bytes. ${QUOTE_HINT}`,
    row,
    limit,
  );

export const recordTooLarge = (row: number, limit: number): CsvError =>
  new CsvError(
    'record_too_large',
    `Row ${row} is longer than ${limit} bytes, the limit for one record; check its quotes and line ends.`,
    row,
    limit,
  );

export const invalidCsv = (row: number, detail: string): CsvError =>
  new CsvError('invalid_csv', `Row ${row} is not valid CSV (${detail}); export the file again as CSV.`, row);

export const tooManyColumns = (row: number, columns: number, limit: number): CsvError =>
  new CsvError(
    'too_many_columns',
    `The header (row ${row}) has ${columns} columns; an import reads at most ${limit}. Delete the columns it does not need (email, name, role, location) and upload again.`,
    row,
    limit,
  );

export const nulCharacter = (row: number): CsvError =>
  invalidCsv(row, 'it contains a NUL character, byte 0, which no text export has');
