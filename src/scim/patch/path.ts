import { ScimError } from '../../lib/errors.js';
import { USER_CATALOG } from '../filter/catalog.js';
import { parseValueFilter, type UserFilter } from '../filter/parse.js';
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  LOOPIT_USER_SCHEMA,
  USER_SCHEMA,
  type Collection,
  type ScimAttribute,
  type ScimSchema,
} from '../schema/model.js';

/** The User schema as PATCH sees it, derived from the schema model, and its paths (RFC 7644 §3.5.2). */

export interface AttrDef {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'complex';
  readonly multi: boolean;
  readonly readOnly: boolean;
  readonly required: boolean;
  /** Accepted and stored nowhere (password). */
  readonly discarded: boolean;
  /** A PATCH remove is 400 mutability (active). */
  readonly removable: boolean;
  /** Sub-attributes by lower-cased name; a Map, so that `__proto__` can never resolve to Object.prototype. */
  readonly subs: ReadonlyMap<string, AttrDef>;
}

export interface SchemaDef {
  readonly urn: string;
  readonly extension: boolean;
  readonly attrs: ReadonlyMap<string, AttrDef>;
}

function def(a: ScimAttribute, parentReadOnly = false): AttrDef {
  const readOnly = parentReadOnly || a.mutability === 'readOnly';
  return {
    name: a.name,
    type: a.type === 'boolean' || a.type === 'complex' ? a.type : 'string',
    multi: a.multiValued,
    readOnly,
    required: a.required,
    discarded: a.discarded === true,
    removable: a.removable !== false,
    subs: byName((a.subAttributes ?? []).map((s) => def(s, readOnly))),
  };
}

const byName = (defs: AttrDef[]): ReadonlyMap<string, AttrDef> =>
  new Map(defs.map((d) => [d.name.toLowerCase(), d]));

const schemaDef = (
  schema: ScimSchema,
  extension: boolean,
  common: readonly ScimAttribute[] = [],
): SchemaDef => ({
  urn: schema.id,
  extension,
  attrs: byName([...common, ...schema.attributes].map((a) => def(a))),
});

export const CORE_SCHEMA = schemaDef(USER_SCHEMA, false, COMMON_ATTRIBUTES);
export const USER_SCHEMAS: readonly SchemaDef[] = [
  CORE_SCHEMA,
  schemaDef(ENTERPRISE_USER_SCHEMA, true),
  schemaDef(LOOPIT_USER_SCHEMA, true),
];

export const invalidPath = (detail: string): ScimError => new ScimError(400, 'invalidPath', detail);

/** Quotes caller text for an error detail, cut short so that a hostile key is not echoed in full. */
export const show = (text: string): string =>
  JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Resolves an attribute or sub-attribute name case-insensitively to its definition (canonical spelling). */
export function lookup(defs: ReadonlyMap<string, AttrDef>, name: string, owner: string): AttrDef {
  const key = name.toLowerCase();
  if (FORBIDDEN.has(key)) throw invalidPath(`${show(name)} is not an attribute name`);
  const found = defs.get(key);
  if (!found) throw invalidPath(`unknown attribute ${show(name)} in ${owner}`);
  return found;
}

export interface ParsedPath {
  readonly schema: SchemaDef;
  /** Absent: the schema itself (the whole extension object, or the resource for the core URN). */
  readonly attr?: AttrDef;
  /** A value filter on the elements of a multi-valued attribute (the query filters' own parser). */
  readonly filter?: UserFilter;
  readonly sub?: AttrDef;
}

export const MAX_PATH = 1024;

/** The length of the attribute name at the start of text: a letter or $, then word characters, $ or -. */
function nameLength(text: string, from: number): number {
  const first = text.charCodeAt(from);
  const letter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (!(letter(first) || first === 36)) return 0;
  let i = from + 1;
  for (; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (!(letter(c) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c === 45)) break;
  }
  return i - from;
}

/** Parses `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each optionally prefixed by a schema URN. */
export function parsePath(text: string, base: SchemaDef = CORE_SCHEMA): ParsedPath {
  if (text.length > MAX_PATH) throw invalidPath(`a path is at most ${MAX_PATH} characters`);
  const lower = text.toLowerCase();
  let schema = base;
  let rest = text;
  for (const candidate of USER_SCHEMAS) {
    const urn = candidate.urn.toLowerCase();
    if (lower === urn) return { schema: candidate };
    if (lower.startsWith(`${urn}:`)) {
      schema = candidate;
      rest = text.slice(urn.length + 1);
    }
  }
  if (rest === text && lower.startsWith('urn:')) throw invalidPath(`unknown schema in ${show(text)}`);
  const headLength = nameLength(rest, 0);
  if (headLength === 0) throw invalidPath(`malformed path ${show(text)}`);
  const attr = lookup(schema.attrs, rest.slice(0, headLength), schema.urn);
  let pos = headLength;
  let filter: UserFilter | undefined;
  if (rest[pos] === '[') {
    const close = closingBracket(rest, pos, text);
    if (!attr.multi || attr.type !== 'complex') throw invalidPath(`${attr.name} is not multi-valued`);
    filter = valueFilter(attr, rest.slice(pos + 1, close));
    pos = close + 1;
  }
  let sub: AttrDef | undefined;
  if (rest[pos] === '.') {
    const length = nameLength(rest, pos + 1);
    if (length === 0) throw invalidPath(`malformed path ${show(text)}`);
    if (attr.type !== 'complex') throw invalidPath(`${attr.name} has no sub-attributes`);
    sub = lookup(attr.subs, rest.slice(pos + 1, pos + 1 + length), attr.name);
    pos += 1 + length;
  }
  if (pos !== rest.length) throw invalidPath(`malformed path ${show(text)}`);
  return { schema, attr, filter, sub };
}

/** The filter of `emails[...]`, parsed as query filters are; its problems are the path's (invalidPath). */
function valueFilter(attr: AttrDef, source: string): UserFilter {
  if (!USER_CATALOG.get(attr.name)?.collection) throw invalidPath(`${attr.name}[...] cannot be filtered`);
  try {
    return parseValueFilter(USER_CATALOG, attr.name as Collection, source);
  } catch (error) {
    if (error instanceof ScimError)
      throw invalidPath(`${attr.name}[${source.slice(0, 100)}]: ${error.detail}`);
    throw error;
  }
}

function closingBracket(rest: string, open: number, text: string): number {
  let quoted = false;
  for (let i = open + 1; i < rest.length; i += 1) {
    const c = rest[i];
    if (quoted && c === '\\') i += 1;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ']') return i;
  }
  throw invalidPath(`unclosed "[" in ${show(text)}`);
}
