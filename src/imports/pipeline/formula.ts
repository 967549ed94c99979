/**
 * Spreadsheets run a cell that begins with one of these as a formula (CSV injection, OWASP). The report
 * prefixes such a cell with `'`; a re-uploaded report has it removed again. The full-width forms are
 * included because Apple Numbers and some Excel locales fold them to their ASCII twins before parsing.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const NEUTRALISED = /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export const neutralise = (cell: string): string => (FORMULA_START.test(cell) ? `'${cell}` : cell);

/** Undoes `neutralise` only: `O'Brien` and `'quoted'` keep their apostrophes. */
export const unneutralise = (cell: string): string => (NEUTRALISED.test(cell) ? cell.slice(1) : cell);
