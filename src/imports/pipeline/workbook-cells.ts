import { DATE_FORMAT_IDS, excelDate, isDateCode, MAX_FORMAT_CODE } from './cell-format.js';
import { formatCodeTooLong } from './workbook-limits.js';
import { scanAll, type Entries } from './workbook-parts.js';
import { WorkbookError, type RawCell } from './workbook-rows.js';

/** A raw cell as text: shared strings looked up, date styles (styles.xml) turned into dates. */

/** Excel writes characters XML cannot hold as `_xHHHH_` (a line break in a cell is `_x000D_` + LF). */
const unescapeOoxml = (text: string): string =>
  text.includes('_x')
    ? text.replace(/_x([0-9A-Fa-f]{4})_/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : text;

/** The style indexes (`s` of a cell) whose number format is a date. */
export async function dateStyles(files: Entries): Promise<Set<number>> {
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

export interface Lookup {
  strings: (index: number) => string | undefined;
  dates: Set<number>;
  date1904: boolean;
}

/** A cell as text, as Excel shows it where that is well defined: a formula's cached result, dates as dates. */
export function cellText(cell: RawCell, lookup: Lookup): string {
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
export function dense(cells: RawCell[], lookup: Lookup, width: number): string[] {
  const out = Array.from({ length: width }, () => '');
  for (const c of cells) if (c.col <= width) out[c.col - 1] = cellText(c, lookup);
  return out;
}

export const lastWithValue = (texts: string[]): number => {
  for (let i = texts.length - 1; i >= 0; i--) if (texts[i]!.trim() !== '') return i + 1;
  return 0;
};
