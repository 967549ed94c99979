import type { Field } from './aliases.js';
import { unneutralise } from './formula.js';

export type { Field } from './aliases.js';

export interface HeaderMapping {
  /** Index in the record of the column each field is read from; absent when the file has none. */
  fields: Partial<Record<Field, number>>;
  /** The header cells that are input, not a previous report's columns, in order (as given, less a report's `'`). */
  inputColumns: string[];
  /** Their indexes in the record. */
  inputIndexes: number[];
  /** The required fields no column gives (`email`; `name`, or the missing half of givenName + familyName). */
  missing: Field[];
}

/** The columns a report adds after the input's, in order. */
export const REPORT_COLUMNS = [
  'row',
  'status',
  'invitation',
  'error_code',
  'error_message',
  'user_id',
] as const;

/**
 * A report uploaded again must not feed its own columns back in, yet a file of the customer's own may
 * well have a `status` or `row` column. So the six count as report columns only when all six end the
 * header, in the report's order, each possibly suffixed with `_`s (how the report avoids the input's
 * names): no hand-made file ends that way by chance.
 */
export function reportColumnCount(cells: string[]): number {
  if (cells.length < REPORT_COLUMNS.length) return 0;
  const tail = cells.slice(-REPORT_COLUMNS.length).map((cell) => cell.trim().toLowerCase());
  return tail.every((cell, i) => new RegExp(`^${REPORT_COLUMNS[i]}_*$`).test(cell))
    ? REPORT_COLUMNS.length
    : 0;
}

/**
 * A cell as the import uses it: a report's formula guard (`'` before `=`, `+`, `-`, `@`, TAB, CR)
 * removed and nothing else, then trimmed and NFC-normalised (macOS exports may be NFD). As `kind:
 * 'name'`, a newline inside (a quoted multi-line cell) is also folded to one space.
 */
export function cellValue(raw: string, kind: 'text' | 'name' = 'text'): string {
  const value = unneutralise(raw);
  const folded = kind === 'name' ? foldLines(value) : value;
  return folded.normalize('NFC').trim();
}

const isBlank = (ch: string | undefined) => ch === ' ' || ch === '\t';
const isBreak = (ch: string | undefined) => ch === '\r' || ch === '\n';

/**
 * Each run of line breaks, with the spaces and tabs on either side, as one space. One pass: a regular
 * expression for this retries every space of a long run that has no break (120,000 spaces froze the API).
 */
export function foldLines(value: string): string {
  if (!value.includes('\n') && !value.includes('\r')) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    let j = i;
    while (isBlank(value[j])) j++;
    let k = j;
    while (isBreak(value[k])) k++;
    if (k > j) {
      while (isBlank(value[k])) k++;
      out += ' ';
      i = k;
    } else if (j > i) {
      out += value.slice(i, j);
      i = j;
    } else {
      out += value[i];
      i++;
    }
  }
  return out;
}

const NAME_FIELDS: ReadonlySet<Field> = new Set<Field>(['name', 'givenName', 'familyName']);

/** The mapped fields of one record through `cellValue`; a field without a column is absent. */
export function mappedValues(cells: string[], mapping: HeaderMapping): Partial<Record<Field, string>> {
  const values: Partial<Record<Field, string>> = {};
  for (const [field, index] of Object.entries(mapping.fields) as [Field, number][]) {
    values[field] = cellValue(cells[index] ?? '', NAME_FIELDS.has(field) ? 'name' : 'text');
  }
  return values;
}

/** The record's input cells, raw, in `inputColumns` order: what a report writes back. */
export const inputCells = (cells: string[], mapping: HeaderMapping): string[] =>
  mapping.inputIndexes.map((i) => cells[i] ?? '');
