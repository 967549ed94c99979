import { CsvError as ParseError, parse, type Parser } from 'csv-parse';
import { Readable, pipeline } from 'node:stream';
import { invalidCsv, nulCharacter, recordTooLarge, tooManyColumns, unterminatedQuote } from './csv-error.js';
import { isBlankish, scanHeader, type Delimiter, type HeaderScan } from './delimiter.js';
import { reportColumnCount } from './header.js';

export { CsvError, type CsvErrorCode } from './csv-error.js';
export type { Delimiter } from './delimiter.js';

export type RecordEvent =
  | { kind: 'header'; row: number; delimiter: Delimiter; cells: string[] }
  | { kind: 'row'; row: number; cells: string[] }
  /** `reason` is a sentence for the row's error message (`malformed_row`). */
  | { kind: 'malformed'; row: number; cells: string[]; reason: string };

/** One person's record is well under 1 KB; a record past this is almost always an unclosed quote. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;
/**
 * Real exports have tens of columns (Excel stops at 16,384). Past this, a file of short cells costs
 * memory and time out of all proportion to its bytes (40 MB of `,a` took 60 s and 2.8 GB to stage).
 */
export const MAX_COLUMNS = 1_000;

/** Blank: none of the first `width` cells holds more than spaces. */
const isBlank = (cells: string[], width = cells.length): boolean => {
  for (let i = 0; i < width; i++) if (cells[i]!.trim() !== '') return false;
  return true;
};

const fields = (n: number): string => (n === 1 ? '1 field' : `${n} fields`);

/** `sawNul` turns true once a chunk holds U+0000, which Postgres cannot store: only then are cells searched. */
function textChunks(text: Readable): AsyncIterator<string> & { sawNul: boolean } {
  const bytes = new TextDecoder('utf-8');
  const source = text[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  const chunks = {
    sawNul: false,
    next: async (): Promise<IteratorResult<string>> => {
      const next = await source.next();
      if (next.done === true) return { done: true, value: undefined };
      const value =
        typeof next.value === 'string'
          ? next.value
          : bytes.decode(next.value as Uint8Array, { stream: true });
      if (value.includes('\0')) chunks.sawNul = true;
      return { done: false, value };
    },
    return: async (): Promise<IteratorResult<string>> => {
      await source.return?.();
      return { done: true, value: undefined };
    },
  };
  return chunks;
}

async function* replay(head: string, rest: AsyncIterator<string> | null): AsyncGenerator<string> {
  if (head !== '') yield head;
  if (rest === null) return;
  try {
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

/** Reads up to the end of the header line, never more than one record's worth, to choose the delimiter. */
async function readHead(chunks: AsyncIterator<string>, maxRecordBytes: number) {
  let head = '';
  let ended = false;
  let scan: HeaderScan = { done: false, inQuotes: false, row: 1 };
  while (!scan.done) {
    const next = await chunks.next();
    if (next.done === true) ended = true;
    else head += next.value;
    scan = scanHeader(head, ended);
    if (!scan.done && Buffer.byteLength(head) > maxRecordBytes) {
      throw scan.inQuotes
        ? unterminatedQuote(scan.row, maxRecordBytes)
        : recordTooLarge(scan.row, maxRecordBytes);
    }
  }
  return { head, ended, delimiter: scan.delimiter };
}

function toCsvError(error: unknown, parser: Parser, maxRecordBytes: number): unknown {
  if (!(error instanceof ParseError)) return error;
  const row = ((error as { records?: number }).records ?? 0) + 1;
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') return unterminatedQuote(row);
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    // csv-parse does not say whether the runaway record is inside quotes; its parser state does.
    const quoting = (parser as unknown as { state?: { quoting?: unknown } }).state?.quoting === true;
    return quoting ? unterminatedQuote(row, maxRecordBytes) : recordTooLarge(row, maxRecordBytes);
  }
  return invalidCsv(row, error.message);
}

/**
 * Records of a decoded CSV text (string chunks, as `openDecoded` gives), streamed: the header, then each
 * data record with its spreadsheet row number (the header's row is 1 unless blank rows precede it).
 * Blank records (no input cell holds more than spaces: a report's own six columns do not count) are
 * skipped but counted; a record whose field count differs from the header's is
 * `malformed` and reading goes on. Throws `CsvError` for what cannot be read past. Cells are raw:
 * neither trimmed nor normalised (see `cellValue`). An empty or blank text yields nothing.
 */
export async function* readRecords(
  text: Readable,
  options: { maxRecordBytes?: number } = {},
): AsyncGenerator<RecordEvent> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const chunks = textChunks(text);
  const { head, ended, delimiter } = await readHead(chunks, maxRecordBytes).catch(async (error: unknown) => {
    await chunks.return?.();
    throw error;
  });
  const parser = parse({
    delimiter,
    bom: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // A stray quote inside an unquoted field (`Dwayne "The Rock" Johnson`) is kept, as Excel does.
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: maxRecordBytes,
  });
  // The error surfaces through the parser's iterator below; the callback only keeps it from being unhandled.
  pipeline(Readable.from(replay(head, ended ? null : chunks)), parser, () => undefined);
  let row = 0;
  let header: string[] | undefined;
  let inputWidth = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      row++;
      if (chunks.sawNul && cells.some((cell) => cell.includes('\0'))) throw nulCharacter(row);
      if (header === undefined) {
        if (isBlankish(cells)) continue;
        if (cells.length > MAX_COLUMNS) throw tooManyColumns(row, cells.length, MAX_COLUMNS);
        header = cells;
        inputWidth = cells.length - reportColumnCount(cells);
        yield { kind: 'header', row, delimiter, cells };
      } else if (isBlank(cells, cells.length === header.length ? inputWidth : cells.length)) {
        // In a report uploaded again, a sync deactivation has report cells but no input: no row of the file.
        continue;
      } else if (cells.length !== header.length) {
        const reason = `Row ${row} has ${fields(cells.length)} where the header has ${header.length}; check for a missing or extra delimiter, or a value with the delimiter in it that is not in quotes.`;
        yield { kind: 'malformed', row, cells, reason };
      } else yield { kind: 'row', row, cells };
    }
  } catch (error) {
    throw toCsvError(error, parser, maxRecordBytes);
  }
}
