/**
 * How workbook cells and number formats are read. Format codes and references are tenant text, so
 * everything here scans once, left to right: no regular expression that can backtrack over them.
 */

/** Excel's longest number format code; a longer one is no format Excel wrote. */
export const MAX_FORMAT_CODE = 255;

/** Built-in number formats that show a date or time. */
export const DATE_FORMAT_IDS: ReadonlySet<number> = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);

/** `code` less every `open`...`close` section; an `open` never closed stays, as text. */
function withoutSections(code: string, open: string, close: string): string {
  let out = '';
  let i = 0;
  while (i < code.length) {
    const start = code.indexOf(open, i);
    if (start < 0) break;
    const end = code.indexOf(close, start + 1);
    if (end < 0) break; // no later section can close either
    out += code.slice(i, start);
    i = end + 1;
  }
  return out + code.slice(i);
}

const LINE_TERMINATORS = new Set(['\n', '\r', '\u2028', '\u2029']);

/** `code` less every backslash escape (`\x`: a literal character). */
function withoutEscapes(code: string): string {
  let out = '';
  for (let i = 0; i < code.length; i++) {
    const next = code[i + 1];
    if (code[i] === '\\' && next !== undefined && !LINE_TERMINATORS.has(next)) i += 1;
    else out += code[i];
  }
  return out;
}

const DATE_LETTERS = new Set(['y', 'm', 'd', 'h', 's']);

/**
 * A custom format code shows a date when, outside brackets (`[Red]`, `[$-409]`), quotes and escapes,
 * it has a date or time letter.
 */
export function isDateCode(code: string): boolean {
  const bare = withoutEscapes(withoutSections(withoutSections(code, '[', ']'), '"', '"'));
  for (const ch of bare.toLowerCase()) if (DATE_LETTERS.has(ch)) return true;
  return false;
}

/** The row number a reference ends with (`A1:E200` → 200), or null when it does not end with digits. */
export function lastRowOf(ref: string | undefined): number | null {
  if (!ref) return null;
  let start = ref.length;
  while (start > 0 && ref.charCodeAt(start - 1) >= 48 && ref.charCodeAt(start - 1) <= 57) start -= 1;
  return start === ref.length ? null : Number(ref.slice(start));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An Excel date serial as `YYYY-MM-DD`, with ` HH:MM:SS` when it has a time of day. */
export function excelDate(serial: number, date1904: boolean): string {
  const ms = Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(serial);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const seconds = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  return seconds === 0
    ? day
    : `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
