import { AppError } from '../../lib/errors.js';
import { DATE_FORMAT_IDS, excelDate, isDateCode, lastRowOf, MAX_FORMAT_CODE } from './cell-format.js';
import { tooManyColumns } from './csv-error.js';
import { cellTooLong, formatCodeTooLong, WORKBOOK_LIMITS } from './workbook-limits.js';
import { entries, scanAll, scanXml, textCollector, type Entries, type Part } from './workbook-parts.js';
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

/** Excel's own sheet limits. */
export const EXCEL_MAX_ROWS = 1_048_576;
const EXCEL_MAX_COLUMNS = 16_384;
/** The peek gives up looking for a header after this much sheet XML (blank rows, styling). */
const PEEK_MAX_XML = 4 * 1_048_576;
/** Without a `sheet` option, the peek looks for the sheet to import among this many visible sheets. */
export const SHEETS_LOOKED_AT = 10;

/** A workbook that cannot be read (422 `invalid_workbook`); `problem` completes "The workbook ...". */
export class WorkbookError extends AppError {
  constructor(problem: string) {
    super(
      422,
      'invalid_workbook',
      `The workbook ${problem}; open it in Excel and save it again, or save its first sheet as CSV (UTF-8).`,
    );
    this.name = 'WorkbookError';
  }
}

export const isZip = (sample: Buffer): boolean =>
  sample.length >= 4 &&
  sample[0] === 0x50 &&
  sample[1] === 0x4b &&
  (sample[2] === 0x03 || sample[2] === 0x05 || sample[2] === 0x07);

/** Excel writes characters XML cannot hold as `_xHHHH_` (a line break in a cell is `_x000D_` + LF). */
const unescapeOoxml = (text: string): string =>
  text.includes('_x')
    ? text.replace(/_x([0-9A-Fa-f]{4})_/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : text;

/** `BC12` → column 55 (1-based), or null for what is not a cell reference. */
export function columnOf(ref: string | undefined): number | null {
  if (!ref) return null;
  const letters = /^([A-Z]{1,3})\d+$/.exec(ref)?.[1];
  if (!letters) return null;
  let col = 0;
  for (const ch of letters) col = col * 26 + (ch.charCodeAt(0) - 64);
  return col <= EXCEL_MAX_COLUMNS ? col : null;
}

/** Name of the document a ZIP holds when it is not a workbook, for the 415 message. */
function otherZip(files: Entries): string {
  if (files.has('word/document.xml')) return 'a Word document (.docx)';
  if (files.has('ppt/presentation.xml')) return 'a PowerPoint presentation (.pptx)';
  if (files.has('content.xml') && files.has('mimetype')) return 'an OpenDocument file (.ods or .odt)';
  return 'a ZIP archive';
}

const unreadable = () => new WorkbookError('has no worksheet that can be read');

/** A cell as stored: its column, type (`t`), style index (`s`) and text (`<v>` or inline `<is>`). */
interface RawCell {
  col: number;
  t: string;
  s: number;
  v: string;
}

/**
 * The rows of a sheet part, streamed, each with its row number and raw cells (only cells with a value).
 * A row or cell whose reference is missing follows the one before it, as the format allows.
 */
async function* sheetRows(
  part: Part,
  maxChars?: number,
  onDimension?: (lastRow: number | null) => void,
): AsyncGenerator<{ row: number; cells: RawCell[] }> {
  const ready: { row: number; cells: RawCell[] }[] = [];
  let rowNumber = 0;
  let cells: RawCell[] = [];
  let cell: RawCell | null = null;
  let inValue = false;
  const inline = textCollector(() => `in the sheet, row ${rowNumber}`);
  const scan = scanXml(
    part,
    () => ({
      open: (tag) => {
        const a = tag.attributes as Record<string, string>;
        switch (tag.name) {
          case 'dimension':
            onDimension?.(lastRowOf(a.ref));
            break;
          case 'row':
            rowNumber = a.r ? Number(a.r) : rowNumber + 1;
            if (!Number.isSafeInteger(rowNumber) || rowNumber < 1 || rowNumber > EXCEL_MAX_ROWS) {
              throw new WorkbookError(
                `has a row numbered ${a.r}, outside Excel's rows 1 to ${EXCEL_MAX_ROWS}`,
              );
            }
            cells = [];
            break;
          case 'c': {
            const col = a.r === undefined ? (cells.at(-1)?.col ?? 0) + 1 : columnOf(a.r);
            if (col === null)
              throw new WorkbookError(`has a cell reference '${a.r}' that is not a cell in row ${rowNumber}`);
            cell = { col, t: a.t ?? 'n', s: a.s ? Number(a.s) : 0, v: '' };
            inline.reset();
            break;
          }
          case 'v':
            inValue = cell !== null;
            break;
          default:
            inline.open(tag.name);
        }
      },
      text: (text) => {
        if (!inValue) return inline.add(text);
        cell!.v += text;
        if (cell!.v.length > WORKBOOK_LIMITS.cellChars) throw cellTooLong(`in the sheet, row ${rowNumber}`);
      },
      close: (name) => {
        if (name === 'v') inValue = false;
        else if (name === 'c' && cell) {
          if (cell.t === 'inlineStr') cell.v = inline.text;
          if (cell.v !== '') cells.push(cell);
          cell = null;
        } else if (name === 'row') {
          if (cells.length > 0) ready.push({ row: rowNumber, cells });
          cells = [];
        } else inline.close(name);
      },
    }),
    maxChars,
  );
  try {
    for await (const _ of scan) {
      void _;
      while (ready.length > 0) yield ready.shift()!;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new WorkbookError(`cannot be read (${(error as Error).message.split('\n')[0]})`);
  } finally {
    await scan.return(undefined);
  }
}

/** The style indexes (`s` of a cell) whose number format is a date. */
async function dateStyles(files: Entries): Promise<Set<number>> {
  const styles = new Set<number>();
  const file = files.get('xl/styles.xml');
  if (!file) return styles;
  const custom = new Map<number, string>();
  let inCellXfs = false;
  let xf = 0;
  await scanAll(file, () => ({
    open: (tag) => {
      const a = tag.attributes as Record<string, string>;
      if (tag.name === 'numFmt') {
        const code = a.formatCode ?? '';
        if (code.length > MAX_FORMAT_CODE) throw formatCodeTooLong(code.length, MAX_FORMAT_CODE);
        custom.set(Number(a.numFmtId), code);
      } else if (tag.name === 'cellXfs') inCellXfs = true;
      else if (tag.name === 'xf' && inCellXfs) {
        const id = Number(a.numFmtId ?? 0);
        const code = custom.get(id);
        if (code !== undefined ? isDateCode(code) : DATE_FORMAT_IDS.has(id)) styles.add(xf);
        xf += 1;
      }
    },
    close: (name) => {
      if (name === 'cellXfs') inCellXfs = false;
    },
  }));
  return styles;
}

interface Lookup {
  strings: (index: number) => string | undefined;
  dates: Set<number>;
  date1904: boolean;
}

/** A cell as text, as Excel shows it where that is well defined: a formula's cached result, dates as dates. */
function cellText(cell: RawCell, lookup: Lookup): string {
  switch (cell.t) {
    case 's': {
      const s = lookup.strings(Number(cell.v));
      if (s === undefined)
        throw new WorkbookError(`refers to a shared string it does not contain (${cell.v})`);
      return unescapeOoxml(s);
    }
    case 'inlineStr':
    case 'str':
      return unescapeOoxml(cell.v);
    case 'b':
      return cell.v === '1' || cell.v === 'true' ? 'TRUE' : 'FALSE';
    case 'e':
    case 'd':
      return cell.v;
    default: {
      const n = Number(cell.v);
      if (!Number.isFinite(n)) return cell.v;
      return lookup.dates.has(cell.s) ? excelDate(n, lookup.date1904) : String(n);
    }
  }
}

/** Dense cells from column A to the last one given. */
function dense(cells: RawCell[], lookup: Lookup, width: number): string[] {
  const out = Array.from({ length: width }, () => '');
  for (const c of cells) if (c.col <= width) out[c.col - 1] = cellText(c, lookup);
  return out;
}

const lastWithValue = (texts: string[]): number => {
  for (let i = texts.length - 1; i >= 0; i--) if (texts[i]!.trim() !== '') return i + 1;
  return 0;
};

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
