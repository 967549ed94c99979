import { ScimError } from '../lib/errors.js';

/** The User schema as PATCH sees it (RFC 7643 §4.1, §4.3 and the Loopit extension), and its paths (RFC 7644 §3.5.2). */

export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LOOPIT_USER_URN = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';

export interface AttrDef {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'complex';
  readonly multi: boolean;
  readonly readOnly: boolean;
  readonly required: boolean;
  /** Sub-attributes by lower-cased name; a Map, so that `__proto__` can never resolve to Object.prototype. */
  readonly subs: ReadonlyMap<string, AttrDef>;
}

export interface SchemaDef {
  readonly urn: string;
  readonly extension: boolean;
  readonly attrs: ReadonlyMap<string, AttrDef>;
}

interface AttrOptions {
  multi?: boolean;
  readOnly?: boolean;
  required?: boolean;
  subs?: AttrDef[];
}

const byName = (defs: AttrDef[]): ReadonlyMap<string, AttrDef> =>
  new Map(defs.map((def) => [def.name.toLowerCase(), def]));

function attr(name: string, type: AttrDef['type'], options: AttrOptions = {}): AttrDef {
  const { multi = false, readOnly = false, required = false, subs = [] } = options;
  return { name, type, multi, readOnly, required, subs: byName(subs) };
}

/** String attributes from a space-separated list of names. */
const strings = (names: string, options?: AttrOptions): AttrDef[] =>
  names.split(' ').map((name) => attr(name, 'string', options));
const complex = (name: string, subs: string, options: AttrOptions = {}): AttrDef =>
  attr(name, 'complex', { ...options, subs: strings(subs) });
const multiValued = (name: string, subs: string, options: AttrOptions = {}): AttrDef =>
  attr(name, 'complex', {
    ...options,
    multi: true,
    subs: [...strings(`${subs} type`), attr('primary', 'boolean')],
  });

const coreSchema: SchemaDef = {
  urn: CORE_USER_URN,
  extension: false,
  attrs: byName([
    ...strings('id', { readOnly: true }),
    ...strings('schemas', { multi: true, readOnly: true }),
    complex('meta', 'resourceType created lastModified location version', { readOnly: true }),
    multiValued('groups', 'value $ref display', { readOnly: true }),
    ...strings('userName', { required: true }),
    ...strings('externalId displayName nickName title userType preferredLanguage locale timezone'),
    complex('name', 'formatted familyName givenName middleName honorificPrefix honorificSuffix'),
    attr('active', 'boolean'),
    multiValued('emails', 'value display'),
    multiValued('phoneNumbers', 'value display'),
    multiValued('addresses', 'formatted streetAddress locality region postalCode country'),
    multiValued('roles', 'value display'),
  ]),
};

const enterpriseSchema: SchemaDef = {
  urn: ENTERPRISE_USER_URN,
  extension: true,
  attrs: byName([
    ...strings('employeeNumber costCenter organization division department'),
    complex('manager', 'value $ref displayName'),
  ]),
};

const loopitSchema: SchemaDef = {
  urn: LOOPIT_USER_URN,
  extension: true,
  attrs: byName(strings('role location')),
};

export const USER_SCHEMAS: readonly SchemaDef[] = [coreSchema, enterpriseSchema, loopitSchema];
export const CORE_SCHEMA = coreSchema;

export const invalidPath = (detail: string): ScimError => new ScimError(400, 'invalidPath', detail);

/** Quotes caller text for an error detail, cut short so that a hostile key is not echoed in full. */
export const show = (text: string): string =>
  JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Resolves an attribute or sub-attribute name case-insensitively to its definition (canonical spelling). */
export function lookup(defs: ReadonlyMap<string, AttrDef>, name: string, owner: string): AttrDef {
  const key = name.toLowerCase();
  if (FORBIDDEN.has(key)) throw invalidPath(`${show(name)} is not an attribute name`);
  const def = defs.get(key);
  if (!def) throw invalidPath(`unknown attribute ${show(name)} in ${owner}`);
  return def;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;
export type Filter =
  | { kind: 'compare'; attr: AttrDef; op: CompareOp; value: Literal }
  | { kind: 'present'; attr: AttrDef }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter };

export interface ParsedPath {
  readonly schema: SchemaDef;
  /** Absent: the schema itself (the whole extension object, or the resource for the core URN). */
  readonly attr?: AttrDef;
  readonly filter?: Filter;
  readonly sub?: AttrDef;
}

const NAME = /^[A-Za-z$][\w$-]*/;
export const MAX_PATH = 1024;

/** Parses `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each optionally prefixed by a schema URN. */
export function parsePath(text: string, base: SchemaDef = coreSchema): ParsedPath {
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
  const head = NAME.exec(rest);
  if (!head) throw invalidPath(`malformed path ${show(text)}`);
  const attr = lookup(schema.attrs, head[0], schema.urn);
  let pos = head[0].length;
  let filter: Filter | undefined;
  if (rest[pos] === '[') {
    const close = closingBracket(rest, pos, text);
    if (!attr.multi || attr.type !== 'complex') throw invalidPath(`${attr.name} is not multi-valued`);
    filter = parseFilter(rest.slice(pos + 1, close), attr, text);
    pos = close + 1;
  }
  let sub: AttrDef | undefined;
  if (rest[pos] === '.') {
    const name = NAME.exec(rest.slice(pos + 1));
    if (!name) throw invalidPath(`malformed path ${show(text)}`);
    if (attr.type !== 'complex') throw invalidPath(`${attr.name} has no sub-attributes`);
    sub = lookup(attr.subs, name[0], attr.name);
    pos += 1 + name[0].length;
  }
  if (pos !== rest.length) throw invalidPath(`malformed path ${show(text)}`);
  return { schema, attr, filter, sub };
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

type Token = { kind: 'word'; text: string } | { kind: 'literal'; value: Literal } | { kind: '(' | ')' };

const TOKEN = /\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z$][\w$.:-]*))/y;
const OPERATORS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const KEYWORDS = new Map<string, Literal>(Object.entries({ true: true, false: false, null: null }));

function tokenize(source: string, text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length && source.slice(TOKEN.lastIndex).trim() !== '') {
    const m = TOKEN.exec(source);
    if (!m) throw invalidPath(`malformed filter in ${show(text)}`);
    if (m[1] || m[2]) tokens.push({ kind: m[1] ? '(' : ')' });
    else if (m[3]) tokens.push({ kind: 'literal', value: JSON.parse(m[3]) as string });
    else if (m[4]) tokens.push({ kind: 'literal', value: Number(m[4]) });
    else tokens.push({ kind: 'word', text: m[5] ?? '' });
  }
  return tokens;
}

/** A value filter over the sub-attributes of one element: eq ne co sw ew gt ge lt le pr, and, or, not, (). */
function parseFilter(source: string, owner: AttrDef, text: string): Filter {
  let tokens: Token[];
  try {
    tokens = tokenize(source, text);
  } catch (error) {
    if (error instanceof SyntaxError) throw invalidPath(`malformed string in ${show(text)}`);
    throw error;
  }
  let at = 0;
  const bad = (): ScimError => invalidPath(`malformed filter in ${show(text)}`);
  const isWord = (word: string): boolean => {
    const token = tokens[at];
    if (token?.kind !== 'word' || token.text.toLowerCase() !== word) return false;
    at += 1;
    return true;
  };
  const expect = (kind: '(' | ')'): void => {
    if (tokens[at]?.kind !== kind) throw bad();
    at += 1;
  };
  const binary = (kind: 'and' | 'or', next: () => Filter): Filter => {
    let left = next();
    while (isWord(kind)) left = { kind, left, right: next() };
    return left;
  };
  const or = (): Filter => binary('or', and);
  const and = (): Filter => binary('and', unary);
  const group = (): Filter => {
    expect('(');
    const inner = or();
    expect(')');
    return inner;
  };
  const unary = (): Filter => {
    if (isWord('not')) return { kind: 'not', filter: group() };
    if (tokens[at]?.kind === '(') return group();
    const [name, operator, operand] = [tokens[at], tokens[at + 1], tokens[at + 2]];
    if (name?.kind !== 'word' || operator?.kind !== 'word') throw bad();
    const attr = lookup(owner.subs, name.text, owner.name);
    const op = operator.text.toLowerCase();
    if (op === 'pr') {
      at += 2;
      return { kind: 'present', attr };
    }
    if (!OPERATORS.has(op)) throw invalidPath(`unsupported operator ${show(operator.text)} in ${show(text)}`);
    let value: Literal | undefined;
    if (operand?.kind === 'literal') value = operand.value;
    else if (operand?.kind === 'word') value = KEYWORDS.get(operand.text.toLowerCase());
    if (value === undefined) throw invalidPath('a filter value is quoted, true, false, null or a number');
    at += 3;
    return { kind: 'compare', attr, op: op as CompareOp, value: literalFor(attr, value) };
  };
  const filter = or();
  if (at !== tokens.length) throw bad();
  return filter;
}

// Every filterable sub-attribute here (type, value, display, primary, address parts) is caseExact: false.
const fold = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : (v ?? null));

/** Entra ID compares booleans with "True" / "False": on a boolean sub-attribute they are the booleans. */
export function literalFor(attr: AttrDef, value: Literal): Literal {
  if (attr.type === 'boolean' && typeof value === 'string' && /^(true|false)$/i.test(value))
    return value.toLowerCase() === 'true';
  return value;
}

function compare(op: CompareOp, actual: unknown, expected: Literal): boolean {
  const [a, e] = [fold(actual), fold(expected)];
  if (op === 'eq') return a === e;
  if (op === 'ne') return a !== e;
  if (typeof a === 'string' && typeof e === 'string') {
    if (op === 'co') return a.includes(e);
    if (op === 'sw') return a.startsWith(e);
    if (op === 'ew') return a.endsWith(e);
  }
  if (typeof a !== typeof e || (typeof a !== 'string' && typeof a !== 'number')) return false;
  const [x, y] = [a as string, e as string]; // both strings or both numbers
  return op === 'gt' ? x > y : op === 'ge' ? x >= y : op === 'lt' ? x < y : op === 'le' ? x <= y : false;
}

export function matches(filter: Filter, element: Record<string, unknown>): boolean {
  switch (filter.kind) {
    case 'compare':
      return compare(filter.op, element[filter.attr.name], filter.value);
    case 'present': {
      const v = element[filter.attr.name];
      return v !== undefined && v !== null && v !== '';
    }
    case 'and':
      return matches(filter.left, element) && matches(filter.right, element);
    case 'or':
      return matches(filter.left, element) || matches(filter.right, element);
    case 'not':
      return !matches(filter.filter, element);
  }
}

/**
 * The element a filter describes when it is a conjunction of `eq` on string or boolean sub-attributes
 * (`type eq "work"`, `type eq "work" and primary eq true`), used to create an element none matches.
 */
export function seedOf(filter: Filter): Map<string, string | boolean> | undefined {
  if (filter.kind === 'compare') {
    const { attr, op, value } = filter;
    const typed = attr.type === 'boolean' ? typeof value === 'boolean' : typeof value === 'string';
    return op === 'eq' && typed ? new Map([[attr.name, value as string | boolean]]) : undefined;
  }
  if (filter.kind !== 'and') return undefined;
  const [left, right] = [seedOf(filter.left), seedOf(filter.right)];
  if (!left || !right) return undefined;
  for (const [key, value] of right) {
    if (left.has(key) && fold(left.get(key)) !== fold(value)) return undefined;
    left.set(key, value);
  }
  return left;
}
