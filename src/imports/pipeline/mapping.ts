import type { ImportWarning, MappingSource } from '../../api/imports.js';
import { badRequest, type AppError } from '../../lib/errors.js';
import { ALIAS_KEYS, FIELDS, headerKey, type Field } from './aliases.js';
import { unneutralise } from './formula.js';
import { reportColumnCount, type HeaderMapping } from './header.js';
import { resemblance } from './resemblance.js';

/**
 * Which column each field is read from. Precedence, field by field: the upload's `mapping` option
 * (explicit), then the workspace's saved mappings, then the alias table; a column in `ignore` is read by
 * nothing. Within one source the leftmost column wins, as a spreadsheet user reads the leftmost as "the"
 * column; every column feeds at most one field. What is left over and looks like a field is reported.
 */

export type { ImportWarning, MappingSource };

export interface ColumnChoices {
  /** The `mapping` option: field → header cell, as the caller wrote it. */
  explicit?: Partial<Record<Field, string>>;
  /** The `ignore` option: header cells read by no field. */
  ignore?: readonly string[];
  /** The workspace's saved mappings: header key → field. */
  saved?: ReadonlyMap<string, Field>;
}

export interface ResolvedHeader extends HeaderMapping {
  /** Every header cell in order (a report's `'` removed), for the 422's `headers`. */
  headers: string[];
  sources: Partial<Record<Field, MappingSource>>;
  /** `column_not_used` warnings (`default_role_applied` needs the workspace: the caller adds it). */
  warnings: ImportWarning[];
  /** For each missing field, the column that probably holds it. */
  suggestions: Partial<Record<Field, string>>;
}

export const invalidMapping = (message: string, details: Record<string, unknown> = {}): AppError =>
  badRequest('invalid_mapping', message, details);

const quoteList = (names: string[]): string => names.map((n) => `'${n}'`).join(', ');

/** Required: an e-mail, and a name or both name parts. Names the field whose column would complete it. */
export function missingFields(fields: Partial<Record<Field, number>>): Field[] {
  const missing: Field[] = [];
  if (fields.email === undefined) missing.push('email');
  if (fields.name === undefined) {
    if (fields.givenName === undefined && fields.familyName === undefined) missing.push('name');
    else if (fields.familyName === undefined) missing.push('familyName');
    else if (fields.givenName === undefined) missing.push('givenName');
  }
  return missing;
}

function inputOf(cells: string[]): { headers: string[]; input: string[] } {
  const headers = cells.map(unneutralise);
  return { headers, input: headers.slice(0, cells.length - reportColumnCount(cells)) };
}

const same = (a: string, b: string): boolean => a.normalize('NFC').trim() === b;

export function resolveHeader(cells: string[], choices: ColumnChoices = {}): ResolvedHeader {
  const { headers, input } = inputOf(cells);
  const keys = input.map(headerKey);
  const fields: Partial<Record<Field, number>> = {};
  const sources: Partial<Record<Field, MappingSource>> = {};
  const taken = new Map<number, Field>();
  const ignored = new Set<number>();

  /** The one column a name given in an option stands for: the exact cell, else the same key. */
  const locate = (name: string, option: 'mapping' | 'ignore', field?: Field): number => {
    const where = field ? `mapping.${field}` : 'ignore';
    const wanted = name.normalize('NFC').trim();
    if (wanted === '')
      throw invalidMapping(`${where} is an empty header name; name a column of the file.`, {
        option,
        ...(field ? { field } : {}),
      });
    const at = (test: (i: number) => boolean) => input.flatMap((_, i) => (test(i) ? [i] : []));
    const exact = at((i) => same(input[i]!, wanted));
    const key = headerKey(wanted);
    const found = exact.length > 0 ? exact : key === '' ? [] : at((i) => keys[i] === key);
    const details = { option, ...(field ? { field } : {}), header: name, headers };
    if (found.length === 0)
      throw invalidMapping(
        `${where} names '${name}', which is not a column of the file; its columns are ${quoteList(input)}.`,
        details,
      );
    if (found.length > 1)
      throw invalidMapping(
        `${where} names '${name}', but the file has ${found.length} columns by that name (columns ${found
          .map((i) => i + 1)
          .join(', ')}); give each column a different name in the file.`,
        details,
      );
    return found[0]!;
  };
  const assign = (field: Field, i: number, source: MappingSource) => {
    fields[field] = i;
    sources[field] = source;
    taken.set(i, field);
  };

  for (const name of choices.ignore ?? []) ignored.add(locate(name, 'ignore'));
  for (const field of FIELDS) {
    const name = choices.explicit?.[field];
    if (name === undefined) continue;
    const i = locate(name, 'mapping', field);
    const details = { option: 'mapping', field, header: name, headers };
    if (ignored.has(i))
      throw invalidMapping(
        `The column '${input[i]}' is both mapped to ${field} and in ignore; keep it in one of them.`,
        details,
      );
    const other = taken.get(i);
    if (other)
      throw invalidMapping(
        `The column '${input[i]}' is mapped to both ${other} and ${field}; a column feeds one field.`,
        details,
      );
    assign(field, i, 'explicit');
  }
  const free = (i: number) => !taken.has(i) && !ignored.has(i);
  const lookups: [MappingSource, ReadonlyMap<string, Field> | undefined][] = [
    ['saved', choices.saved],
    ['alias', ALIAS_KEYS],
  ];
  for (const [source, lookup] of lookups) {
    keys.forEach((key, i) => {
      const field = key === '' ? undefined : lookup?.get(key);
      if (field && fields[field] === undefined && free(i)) assign(field, i, source);
    });
  }

  const missing = missingFields(fields);
  const warnings: ImportWarning[] = [];
  const suggestions: Partial<Record<Field, string>> = {};
  input.forEach((column, i) => {
    if (!free(i)) return;
    const like = resemblance(column);
    if (!like) return;
    const readFrom = fields[like.field];
    warnings.push({
      code: 'column_not_used',
      message:
        `The column '${column}' is not read, though it looks like ${like.field}` +
        (readFrom === undefined ? '' : ` (read from '${input[readFrom]}')`) +
        `; to read it, name it in mapping (${JSON.stringify({ [like.field]: column })}), or list it in ignore.`,
      column,
      field: like.field,
    });
    if (missing.includes(like.field) && suggestions[like.field] === undefined)
      suggestions[like.field] = column;
  });
  // "Nom" alone (French) or "Nome" alone (Italian, Portuguese) is more likely the full name.
  for (const part of ['givenName', 'familyName'] as const) {
    const other = part === 'givenName' ? 'familyName' : 'givenName';
    if (missing.includes(part) && !suggestions[part] && sources[other] === 'alias')
      suggestions.name = input[fields[other]!]!;
  }
  return {
    fields,
    inputColumns: input,
    inputIndexes: input.map((_, i) => i),
    missing,
    headers,
    sources,
    warnings,
    suggestions,
  };
}

/** The mapping an import recorded at its upload, applied to the same header read again (a workbook's worker). */
export function storedHeader(cells: string[], stored: Partial<Record<Field, number>>): HeaderMapping {
  const { input } = inputOf(cells);
  const fields = Object.fromEntries(
    Object.entries(stored).filter(([field, i]) => FIELDS.includes(field as Field) && i < input.length),
  ) as Partial<Record<Field, number>>;
  return {
    fields,
    inputColumns: input,
    inputIndexes: input.map((_, i) => i),
    missing: missingFields(fields),
  };
}
