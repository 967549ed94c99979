import { FIELDS } from '../imports/pipeline/aliases.js';
import { CliError } from './cli-error.js';

/** The import command's column options (`--map`, `--ignore`) and its help for a refusal about columns. */

/** A word the shell passes as is: quoted when it holds anything but plain characters. */
export const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** What a refusal about columns or sheets carries, as lines a person can act on. */
export function columnHelp(e: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const headers = strings(e.headers);
  if (headers.length > 0 && (e.code === 'missing_columns' || e.code === 'invalid_mapping'))
    lines.push(`the file's columns: ${headers.map((h) => shellWord(h)).join(', ')}`);
  const sheets = strings(e.sheets);
  if (sheets.length > 0)
    lines.push(
      `${typeof e.sheet === 'string' ? `read sheet ${shellWord(e.sheet)}; ` : ''}the workbook's sheets: ${sheets
        .map((name) => shellWord(name))
        .join(', ')} (choose one with --sheet NAME or --sheet POSITION)`,
    );
  if (e.code !== 'missing_columns') return lines;
  const suggestions =
    typeof e.suggestions === 'object' && e.suggestions !== null
      ? Object.entries(e.suggestions).filter((s): s is [string, string] => typeof s[1] === 'string')
      : [];
  if (suggestions.length > 0)
    lines.push(
      `suggested: ${suggestions.map(([field, header]) => `--map ${shellWord(`${field}=${header}`)}`).join(' ')}`,
    );
  const unsuggested = strings(e.missing).filter((f) => !suggestions.some(([field]) => field === f));
  for (const field of unsuggested)
    lines.push(`no column looks like ${field}: add --map ${field}=COLUMN with one of the columns above`);
  return lines;
}

/** `--map FIELD=HEADER`s as the API's mapping option; refused here, before any upload, when malformed. */
export function mappingOption(maps: string[]): Record<string, string> | undefined {
  if (maps.length === 0) return undefined;
  const mapping: Record<string, string> = {};
  for (const arg of maps) {
    const at = arg.indexOf('=');
    const field = at < 0 ? '' : arg.slice(0, at).trim();
    const header = at < 0 ? '' : arg.slice(at + 1);
    if (!field || header.trim() === '')
      throw new CliError(`--map takes FIELD=HEADER, such as --map email=Mail; got '${arg}'`, 2);
    if (!(FIELDS as readonly string[]).includes(field))
      throw new CliError(`--map ${arg}: '${field}' is not a field; fields are ${FIELDS.join(', ')}`, 2);
    if (Object.hasOwn(mapping, field))
      throw new CliError(`--map names ${field} twice; give each field once`, 2);
    mapping[field] = header;
  }
  return mapping;
}
