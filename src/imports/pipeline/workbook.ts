import { AppError } from '../../lib/errors.js';
import { tooManyColumns } from './csv-error.js';
import { cellText, dateStyles, dense, lastWithValue, type Lookup } from './workbook-cells.js';
import { entries, type Entries, type Part } from './workbook-parts.js';
import { EXCEL_MAX_ROWS, sheetRows, WorkbookError } from './workbook-rows.js';
import { MAX_COLUMNS, type RecordEvent } from './records.js';
import { sharedStrings, type StringTable } from './shared-strings.js';
import {
  chosenSheet,
  openBook,
  unknownSheet,
  visibleSheets,
  type Book,
  type Sheet,
} from './workbook-sheets.js';

export { EXCEL_MAX_ROWS };

/**
 * Excel workbooks (.xlsx): a ZIP of XML parts. unzipper opens the ZIP by its central directory, so each
 * part is read on its own, in the order needed, whatever order the writer stored them in; saxes parses
 * each part as a stream. The API only peeks (the header of the sheet to import, and of the sheets before
 * it when it looks for one, and the shared strings they use: a few kilobytes inflated, however big the
 * workbook). The worker converts the whole sheet
 * (`readWorkbookRecords`) into the records a CSV gives, holding only the shared-string table, which the
 * format requires.
 */

export type WorkbookPeek =
  | {
      ok: true;
      /** The sheet that is imported. */
      sheet: string;
      /** The visible sheets' names, in the workbook's order. */
      sheets: string[];
      /** Its header (first row with a value) or null when the peek found none. */
      header: { row: number; cells: string[] } | null;
      /** The last row the sheet's `<dimension>` declares, when it declares one. */
      lastRow: number | null;
    }
  | { ok: false; detected: string };

/** The peek gives up looking for a header after this much sheet XML (blank rows, styling). */
const PEEK_MAX_XML = 4 * 1_048_576;
/** Without a `sheet` option, the peek looks for the sheet to import among this many visible sheets. */
export const SHEETS_LOOKED_AT = 10;

export const isZip = (sample: Buffer): boolean =>
  sample.length >= 4 &&
  sample[0] === 0x50 &&
  sample[1] === 0x4b &&
  (sample[2] === 0x03 || sample[2] === 0x05 || sample[2] === 0x07);

/** Name of the document a ZIP holds when it is not a workbook, for the 415 message. */
function otherZip(files: Entries): string {
  if (files.has('word/document.xml')) return 'a Word document (.docx)';
  if (files.has('ppt/presentation.xml')) return 'a PowerPoint presentation (.pptx)';
  if (files.has('content.xml') && files.has('mimetype')) return 'an OpenDocument file (.ods or .odt)';
  return 'a ZIP archive';
}

const unreadable = () => new WorkbookError('has no worksheet that can be read');

export interface SheetChoice {
  /** The `sheet` option: a name, or a 1-based position among the visible sheets. */
  sheet?: string | null;
  /** Without `sheet`: whether a sheet's header row gives what an import needs. */
  usable?: (cells: string[]) => Promise<boolean>;
}

/** The header (first row with a value) of a sheet, inflating only what that needs; null when it has none. */
async function peekHeader(
  book: Book,
  part: Part,
): Promise<{ header: { row: number; cells: string[] } | null; lastRow: number | null }> {
  let lastRow: number | null = null;
  for await (const row of sheetRows(part, PEEK_MAX_XML, (n) => (lastRow = n))) {
    const wanted = new Set(row.cells.flatMap((c) => (c.t === 's' ? [Number(c.v)] : [])));
    const strings = (await sharedStrings(book.files, wanted)) as Map<number, string>;
    const lookup: Lookup = { strings: (i) => strings.get(i), dates: new Set(), date1904: book.date1904 };
    const width = Math.min(Math.max(...row.cells.map((c) => c.col)), MAX_COLUMNS + 1);
    const cells = dense(row.cells, lookup, width);
    const last = lastWithValue(cells);
    if (last === 0) continue;
    if (last > MAX_COLUMNS) throw tooManyColumns(row.row, last, MAX_COLUMNS);
    return { header: { row: row.row, cells: cells.slice(0, last) }, lastRow };
  }
  return { header: null, lastRow };
}

/**
 * Decides whether a ZIP upload is an Excel workbook and picks the sheet to import: the one `sheet`
 * names (422 `unknown_sheet` when none), else the first visible sheet whose header is `usable` (among
 * the first `SHEETS_LOOKED_AT`), else the first visible sheet. Reads only the headers that takes. Throws
 * `WorkbookError` for a workbook whose parts are damaged.
 */
export async function peekWorkbook(path: string, choice: SheetChoice = {}): Promise<WorkbookPeek> {
  const files = await entries(path);
  if (!files) return { ok: false, detected: 'a damaged or incomplete ZIP archive or Excel workbook' };
  if (!files.has('xl/workbook.xml')) return { ok: false, detected: otherZip(files) };
  try {
    const book = await openBook(files);
    const visible = visibleSheets(book);
    if (visible.length === 0) throw unreadable();
    const sheets = visible.map((s) => s.name);
    const peek = async (sheet: Sheet) => {
      if (!sheet.part) throw unreadable();
      return { ok: true as const, sheet: sheet.name, sheets, ...(await peekHeader(book, sheet.part)) };
    };
    if (choice.sheet) {
      const chosen = chosenSheet(visible, choice.sheet);
      if (!chosen) throw unknownSheet(choice.sheet, sheets);
      return await peek(chosen);
    }
    const first = await peek(visible[0]!);
    if (!choice.usable || (first.header && (await choice.usable(first.header.cells)))) return first;
    for (const sheet of visible.slice(1, SHEETS_LOOKED_AT)) {
      if (!sheet.part) continue;
      const next = await peek(sheet);
      if (next.header && (await choice.usable(next.header.cells))) return next;
    }
    return first;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new WorkbookError(`cannot be read (${(error as Error).message.split('\n')[0]})`);
  }
}

const columns = (n: number): string => (n === 1 ? '1 column' : `${n} columns`);

/**
 * The records of the workbook's sheet `sheetName` (the one the upload's peek chose), streamed: the
 * header (the first row with a value), then each data row with its row number in the sheet. Rows
 * without a value are skipped. A row with a value right of the header's last column is `malformed`.
 * Throws `WorkbookError` or `CsvError` for what cannot be read past, and `WorkbookError` when the
 * workbook has no sheet `sheetName`.
 */
export async function* readWorkbookRecords(path: string, sheetName: string): AsyncGenerator<RecordEvent> {
  try {
    yield* workbookRecords(path, sheetName);
  } catch (error) {
    // Whatever the parts hold (a damaged deflate stream, broken XML), the workbook is what failed.
    if (error instanceof AppError) throw error;
    throw new WorkbookError(`cannot be read (${(error as Error).message.split('\n')[0]})`);
  }
}

async function* workbookRecords(path: string, sheetName: string): AsyncGenerator<RecordEvent> {
  const files = await entries(path);
  if (!files || !files.has('xl/workbook.xml')) throw new WorkbookError('is not a workbook any more');
  const book = await openBook(files);
  const part = book.sheets.find((s) => s.name === sheetName)?.part;
  if (!part) throw new WorkbookError(`has no sheet named '${sheetName}' any more`);
  const all = (await sharedStrings(files)) as StringTable;
  const lookup: Lookup = {
    strings: (i) => all.get(i),
    dates: await dateStyles(files),
    date1904: book.date1904,
  };
  let header: string[] | undefined;
  for await (const row of sheetRows(part)) {
    if (header === undefined) {
      const cells = dense(row.cells, lookup, Math.max(...row.cells.map((c) => c.col)));
      const last = lastWithValue(cells);
      if (last === 0) continue;
      if (last > MAX_COLUMNS) throw tooManyColumns(row.row, last, MAX_COLUMNS);
      header = cells.slice(0, last);
      yield { kind: 'header', row: row.row, delimiter: ',', cells: header };
      continue;
    }
    const width = header.length;
    const cells = dense(row.cells, lookup, width);
    const beyond = row.cells.filter((c) => c.col > width && cellText(c, lookup).trim() !== '');
    if (beyond.length === 0 && lastWithValue(cells) === 0) continue;
    if (cells.some((c) => c.includes('\0')))
      throw new WorkbookError(`has a NUL character (byte 0) in row ${row.row}`);
    if (beyond.length > 0) {
      const col = Math.max(...beyond.map((c) => c.col));
      const reason = `Row ${row.row} has a value in column ${col} where the header has ${columns(width)}; move the value into a column with a header, or delete it.`;
      yield { kind: 'malformed', row: row.row, cells, reason };
    } else yield { kind: 'row', row: row.row, cells };
  }
}
