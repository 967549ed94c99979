import { AppError } from '../../lib/errors.js';
import { lastRowOf } from './cell-format.js';
import { cellTooLong, WORKBOOK_LIMITS } from './workbook-limits.js';
import { scanXml, textCollector, type Part } from './workbook-parts.js';

/** A sheet part's XML, scanned as a stream into rows of raw cells (what each cell stores, not yet text). */

/** Excel's own sheet limits. */
export const EXCEL_MAX_ROWS = 1_048_576;
const EXCEL_MAX_COLUMNS = 16_384;

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

/** `BC12` → column 55 (1-based), or null for what is not a cell reference. */
export function columnOf(ref: string | undefined): number | null {
  if (!ref) return null;
  const letters = /^([A-Z]{1,3})\d+$/.exec(ref)?.[1];
  if (!letters) return null;
  let col = 0;
  for (const ch of letters) col = col * 26 + (ch.charCodeAt(0) - 64);
  return col <= EXCEL_MAX_COLUMNS ? col : null;
}

/** A cell as stored: its column, type (`t`), style index (`s`) and text (`<v>` or inline `<is>`). */
export interface RawCell {
  col: number;
  t: string;
  s: number;
  v: string;
}

/**
 * The rows of a sheet part, streamed, each with its row number and raw cells (only cells with a value).
 * A row or cell whose reference is missing follows the one before it, as the format allows.
 */
export async function* sheetRows(
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
