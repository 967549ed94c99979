import { createHash } from 'node:crypto';
import type { ImportMode } from '../db/tables.js';
import { badRequest } from '../lib/errors.js';
import { clean } from '../lib/text.js';
import { emailProblem } from '../provisioning/validate.js';
import { FIELDS, type Field } from './pipeline/aliases.js';
import { invalidMapping } from './pipeline/mapping.js';
import { MAX_COLUMNS } from './pipeline/records.js';

export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
  sendInvites: boolean;
  defaultRole: string | null;
  notifyEmail: string | null;
  confirmDeactivations: number | null;
  /** Field → header cell, as given (fields in FIELDS order); null when not given. */
  mapping: Partial<Record<Field, string>> | null;
  /** Header cells no field reads; null when not given. */
  ignore: string[] | null;
  /** A workbook's sheet: a name, or a 1-based position among the visible sheets. */
  sheet: string | null;
}

const MODES: ImportMode[] = ['create', 'upsert', 'sync'];
export const OPTION_NAMES = [
  'mode',
  'dryRun',
  'sendInvites',
  'defaultRole',
  'notifyEmail',
  'confirmDeactivations',
  'mapping',
  'ignore',
  'sheet',
] as const;

/** A header name in `mapping` or `ignore` is at most this long (a header cell of Excel's is 32,767). */
const MAX_HEADER_NAME = 1000;

const FIELD_LIST = FIELDS.join(', ');

function parseJson(option: 'mapping' | 'ignore', raw: string, example: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw invalidMapping(`${option} is not valid JSON; send it as JSON, such as ${example}.`, { option });
  }
}

function headerName(option: 'mapping' | 'ignore', where: string, value: unknown, field?: Field): string {
  const details = { option, ...(field ? { field } : {}) };
  if (typeof value !== 'string')
    throw invalidMapping(
      `${where} must be a column name (a string); got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}.`,
      details,
    );
  if (value.trim() === '')
    throw invalidMapping(`${where} is an empty header name; name a column of the file.`, details);
  if (value.length > MAX_HEADER_NAME)
    throw invalidMapping(
      `${where} is longer than ${MAX_HEADER_NAME} characters; no column is named so.`,
      details,
    );
  return value;
}

const nameKey = (name: string) => name.normalize('NFC').trim();

/** `{"email": "Mail", "role": "Job role"}`: field → header cell. */
function parseMapping(raw: string | undefined): Partial<Record<Field, string>> | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = parseJson('mapping', raw, '{"email": "Mail", "role": "Job role"}');
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidMapping(
      `mapping must be a JSON object of field → column name, such as {"email": "Mail"}; fields are ${FIELD_LIST}.`,
      { option: 'mapping' },
    );
  const given = value as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!(FIELDS as readonly string[]).includes(name))
      throw invalidMapping(`mapping names '${name}', which is not a field; fields are ${FIELD_LIST}.`, {
        option: 'mapping',
        field: name,
      });
  }
  const mapping: Partial<Record<Field, string>> = {};
  const byName = new Map<string, Field>();
  for (const field of FIELDS) {
    if (!Object.hasOwn(given, field)) continue;
    const header = headerName('mapping', `mapping.${field}`, given[field], field);
    const other = byName.get(nameKey(header));
    if (other)
      throw invalidMapping(
        `mapping names the column '${header}' for both ${other} and ${field}; a column feeds one field.`,
        { option: 'mapping', field, header },
      );
    byName.set(nameKey(header), field);
    mapping[field] = header;
  }
  return mapping;
}

/** `["Notes", "Manager Email"]`: columns deliberately not read. */
function parseIgnore(raw: string | undefined): string[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = parseJson('ignore', raw, '["Notes", "Manager Email"]');
  if (!Array.isArray(value))
    throw invalidMapping('ignore must be a JSON array of column names, such as ["Notes"].', {
      option: 'ignore',
    });
  if (value.length > MAX_COLUMNS)
    throw invalidMapping(`ignore names more than ${MAX_COLUMNS} columns, more than a file may have.`, {
      option: 'ignore',
    });
  const seen = new Set<string>();
  return value.map((item, i) => {
    const header = headerName('ignore', `ignore[${i}]`, item);
    if (seen.has(nameKey(header)))
      throw invalidMapping(`ignore names '${header}' twice; name each column once.`, {
        option: 'ignore',
        header,
      });
    seen.add(nameKey(header));
    return header;
  });
}

function parseSheet(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  if (raw.length > 255)
    throw badRequest(
      'invalid_option',
      'sheet must be a sheet name (Excel allows 31 characters) or a position.',
      {
        field: 'sheet',
      },
    );
  return raw.normalize('NFC').trim();
}

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw badRequest('invalid_option', `${name} must be true or false; got '${value}'.`, { field: name });
}

/** Parses options from the query string and form fields (fields win); unknown names are refused. */
export function parseOptions(raw: Record<string, string | undefined>): ImportOptions {
  const mode = (raw.mode?.trim().toLowerCase() || 'create') as ImportMode;
  if (!MODES.includes(mode)) {
    throw badRequest('invalid_option', `mode must be create, upsert or sync; got '${raw.mode}'.`, {
      field: 'mode',
    });
  }
  const notifyEmail = raw.notifyEmail?.trim() ? clean(raw.notifyEmail) : null;
  if (notifyEmail && emailProblem(notifyEmail)) {
    throw badRequest('invalid_option', `notifyEmail '${notifyEmail}' is not a valid e-mail address.`, {
      field: 'notifyEmail',
    });
  }
  let confirmDeactivations: number | null = null;
  if (raw.confirmDeactivations !== undefined && raw.confirmDeactivations.trim() !== '') {
    if (!/^\d{1,9}$/.test(raw.confirmDeactivations.trim())) {
      throw badRequest('invalid_option', 'confirmDeactivations must be a whole number of users.', {
        field: 'confirmDeactivations',
      });
    }
    confirmDeactivations = Number(raw.confirmDeactivations.trim());
  }
  return {
    mode,
    dryRun: bool('dryRun', raw.dryRun, false),
    sendInvites: bool('sendInvites', raw.sendInvites, true),
    defaultRole: raw.defaultRole?.trim() ? clean(raw.defaultRole) : null,
    notifyEmail,
    confirmDeactivations,
    mapping: parseMapping(raw.mapping),
    ignore: parseIgnore(raw.ignore),
    sheet: parseSheet(raw.sheet),
  };
}

/** The Idempotency-Key fingerprint: the bytes' hash and the normalised options. */
export function fingerprint(sha256: string, options: ImportOptions): string {
  // Options not given stay out, so a key taken before they existed keeps its fingerprint.
  const { mapping, ignore, sheet, ...rest } = options;
  const normalised = {
    ...rest,
    ...(mapping ? { mapping } : {}),
    ...(ignore ? { ignore: [...ignore].map(nameKey).sort() } : {}),
    ...(sheet ? { sheet } : {}),
  };
  return createHash('sha256').update(sha256).update(JSON.stringify(normalised)).digest('hex');
}
