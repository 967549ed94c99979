import type { Filter } from 'scim2-parse-filter';
import { unstorableText } from '../../lib/text.js';
// The parser's own steps, so that the tokens can be checked and marked before parsing (see prepare()).
// The version is pinned (-E) because these are not the package's documented entry point.
import { parseFilter, tokenizer, Tokens, type Token } from 'scim2-parse-filter/lib/src/parser.js';
import {
  GROUP_CATALOG,
  USER_CATALOG,
  invalidFilter,
  resolveAttribute,
  resolveCollection,
  resolveSubAttribute,
  type Catalog,
  type Collection,
  type FilterAttribute,
} from './catalog.js';

export const FILTER_MAX_LENGTH = 4096;
export const FILTER_MAX_DEPTH = 50;

export type CompareOp = 'eq' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** A parsed, checked user filter: every attribute resolved, every value of the right type. */
export type UserFilter =
  | { kind: 'and' | 'or'; filters: UserFilter[] }
  | { kind: 'not'; filter: UserFilter }
  | { kind: 'present'; attr: FilterAttribute }
  | { kind: 'compare'; attr: FilterAttribute; op: CompareOp; value: string | boolean; precision?: string }
  /** Some element of a multi-valued attribute matches the inner filter (one element for all of it). */
  | { kind: 'any'; collection: Collection; filter: UserFilter };

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
// Put in front of the word after `].` so the parser's output tells `emails[type eq "work"].value eq "x"`
// (one element) apart from `emails[type eq "work"] and emails.value eq "x"` (any elements): the parser
// turns both into the same `and`. No word can contain it: the tokenizer refuses control characters.
const MARK = '\u0001';
const JSON_NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/** Refuses what the tokenizer would choke on: an unclosed string, or raw control characters in one. */
function checkQuotes(filter: string): void {
  let open = -1;
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (open < 0) {
      if (c === 0x22) open = i;
    } else if (c === 0x5c) {
      i++;
    } else if (c === 0x22) {
      open = -1;
    } else if (c < 0x20) {
      throw invalidFilter(
        'A quoted value contains a control character (such as a line break); escape it as in JSON.',
      );
    }
  }
  if (open >= 0) throw invalidFilter(`The quoted value starting at character ${open + 1} is not closed.`);
}

function prepare(filter: string): Token[] {
  let tokens: Token[];
  try {
    tokens = tokenizer(filter);
  } catch {
    throw invalidFilter(
      `The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2): it cannot be read from '${filter.slice(0, 60)}'.`,
    );
  }
  let depth = 0;
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    if (t.type === 'Quoted') {
      // The tokenizer doubles backslashes not before a quote; undo that where the value is valid JSON,
      // so "a\\b" means a\b as RFC 7644 says (JSON strings), and keep its lenient reading otherwise.
      const raw = t.literal.replace(/\\\\/g, '\\');
      try {
        JSON.parse(raw);
        t.literal = raw;
      } catch {
        // keep the tokenizer's literal
      }
    } else if (t.type === 'Bracket') {
      if (t.literal === '(' || t.literal === '[') depth++;
      else depth--;
      if (depth > FILTER_MAX_DEPTH) {
        throw invalidFilter(`The filter nests deeper than ${FILTER_MAX_DEPTH} levels.`);
      }
      const next = tokens[i + 1];
      if (t.literal === '].' && next?.type === 'Word') next.literal = `${MARK}${next.literal}`;
    } else if (t.type === 'Word' && prev?.type === 'Word' && COMPARE_OPS.has(prev.literal.toLowerCase())) {
      const word = t.literal.toLowerCase();
      // ABNF literals are case-insensitive: True, FALSE and Null are the JSON literals.
      if (word === 'true' || word === 'false' || word === 'null') t.literal = word;
      else if (!JSON_NUMBER.test(t.literal)) {
        throw invalidFilter(
          `The value ${t.literal} after '${prev.literal}' is not quoted: put strings in double quotes, as in userName eq "${t.literal}".`,
        );
      }
    }
  });
  return tokens;
}

function parseSyntax(filter: string): Filter {
  const list = new Tokens(prepare(filter));
  try {
    const parsed = parseFilter(list);
    if (list.peek().type !== 'EOT') throw new Error(`unexpected '${list.peek().literal}'`);
    return parsed;
  } catch (error) {
    const reason = error instanceof Error ? error.message.replaceAll(MARK, '') : 'unreadable';
    throw invalidFilter(`The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2): ${reason}.`);
  }
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))?$/;

/** True when the fields name a real instant (no 30 February, no 25 o'clock, offsets up to 15:59). */
function realDate(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, s, , , oh, om] = m.slice(1).map((x) => Number(x ?? 0));
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999 (Entra's full sync sends 0001).
  const date = new Date(0);
  date.setUTCFullYear(y ?? 0, (mo ?? 0) - 1, d);
  date.setUTCHours(h ?? 0, mi, s);
  return (
    (y ?? 0) >= 1 &&
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === (mo ?? 0) - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    (oh ?? 0) <= 15 &&
    (om ?? 0) <= 59
  );
}

/** An xsd:dateTime, and the precision it was given in (a time is equal to every instant it rounds). */
function dateTime(path: string, value: unknown): { value: string; precision: string } {
  const m = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!m || !realDate(m)) {
    throw invalidFilter(
      `${path} takes a date and time such as "2026-11-28T09:30:00Z" (xsd:dateTime); got ${JSON.stringify(value)}.`,
    );
  }
  const digits = Math.min(m[7]?.length ?? 0, 6);
  return {
    value: m[8] ? m[0] : `${m[0]}Z`,
    precision: `${(10 ** -digits).toFixed(digits)} seconds`,
  };
}

function leaf(
  attr: FilterAttribute,
  op: string,
  value: string | number | boolean | null | undefined,
): UserFilter {
  if (op === 'pr') return { kind: 'present', attr };
  const unstorable = unstorableText(value);
  if (unstorable) {
    // Postgres text and jsonb cannot hold these, so no stored value can contain them either.
    throw invalidFilter(`The value compared with ${attr.path} contains ${unstorable}.`);
  }
  if (value === null) {
    if (op === 'eq') return { kind: 'not', filter: { kind: 'present', attr } };
    if (op === 'ne') return { kind: 'present', attr };
    throw invalidFilter(`null can only be compared with eq or ne (in ${attr.path} ${op} null).`);
  }
  if (op === 'ne') return { kind: 'not', filter: leaf(attr, 'eq', value) };
  const cmp = op as CompareOp;
  if (attr.type === 'boolean') {
    if (cmp !== 'eq') throw invalidFilter(`${attr.path} is a boolean: use eq, ne or pr, not ${op}.`);
    const bool =
      typeof value === 'string' && /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value;
    if (typeof bool !== 'boolean') {
      throw invalidFilter(
        `${attr.path} is a boolean: compare it with true or false, not ${JSON.stringify(value)}.`,
      );
    }
    return { kind: 'compare', attr, op: cmp, value: bool };
  }
  if (attr.type === 'dateTime') {
    if (cmp === 'co' || cmp === 'sw' || cmp === 'ew') {
      throw invalidFilter(`${attr.path} is a date and time: use eq, ne, gt, ge, lt, le or pr, not ${op}.`);
    }
    return { kind: 'compare', attr, op: cmp, ...dateTime(attr.path, value) };
  }
  if (typeof value !== 'string') {
    throw invalidFilter(
      `${attr.path} is a string: put the value in double quotes, as in ${attr.path} ${op} "${String(value)}".`,
    );
  }
  return { kind: 'compare', attr, op: cmp, value };
}

const marked = (f: Filter): boolean => 'attrPath' in f && f.attrPath.includes(MARK);

function check(catalog: Catalog, f: Filter, depth: number, within?: Collection): UserFilter {
  if (depth > FILTER_MAX_DEPTH)
    throw invalidFilter(`The filter nests deeper than ${FILTER_MAX_DEPTH} levels.`);
  switch (f.op) {
    case 'and':
    case 'or': {
      const [first, second] = f.filters;
      const subPath = second && 'attrPath' in second ? second.attrPath : '';
      if (f.op === 'and' && f.filters.length === 2 && first?.op === '[]' && subPath.includes(MARK)) {
        // emails[type eq "work"].value eq "x": the value filter and the comparison hold for one element.
        const collection = resolveCollection(catalog, first.attrPath);
        const sub = { ...second, attrPath: subPath.split(MARK)[1] ?? '' } as Filter;
        if (within || sub.op === '[]') throw invalidFilter('Value paths cannot be nested.');
        const inner = [
          check(catalog, first.valFilter, depth + 1, collection),
          check(catalog, sub, depth + 1, collection),
        ];
        return { kind: 'any', collection, filter: { kind: 'and', filters: inner } };
      }
      return { kind: f.op, filters: f.filters.map((x) => check(catalog, x, depth + 1, within)) };
    }
    case 'not':
      return { kind: 'not', filter: check(catalog, f.filter, depth + 1, within) };
    case '[]': {
      if (within || marked(f)) throw invalidFilter('Value paths cannot be nested.');
      const collection = resolveCollection(catalog, f.attrPath);
      return { kind: 'any', collection, filter: check(catalog, f.valFilter, depth + 1, collection) };
    }
    default: {
      if (marked(f))
        throw invalidFilter(
          `A sub-attribute after ']' must be compared, as in emails[type eq "work"].value eq "x".`,
        );
      if (within)
        return leaf(
          resolveSubAttribute(catalog, within, f.attrPath),
          f.op,
          f.op === 'pr' ? undefined : f.compValue,
        );
      const attr = resolveAttribute(catalog, f.attrPath);
      const node = leaf(attr, f.op, f.op === 'pr' ? undefined : f.compValue);
      // emails.type eq "work" outside brackets: some element matches.
      return attr.storage?.kind === 'element'
        ? { kind: 'any', collection: attr.storage.collection, filter: node }
        : node;
    }
  }
}

function parseWith(catalog: Catalog, filter: string): UserFilter {
  if (filter.length > FILTER_MAX_LENGTH) {
    throw invalidFilter(`The filter is longer than ${FILTER_MAX_LENGTH} characters.`);
  }
  if (!filter.trim()) throw invalidFilter('The filter is empty.');
  checkQuotes(filter);
  return check(catalog, parseSyntax(filter), 0);
}

/** Parses and checks a SCIM filter on Users; every problem is a 400 invalidFilter saying what is wrong. */
export const parseUserFilter = (filter: string): UserFilter => parseWith(USER_CATALOG, filter);

/** Parses and checks a SCIM filter on Groups (displayName, externalId, id, members, meta dates). */
export const parseGroupFilter = (filter: string): UserFilter => parseWith(GROUP_CATALOG, filter);

/**
 * The filter inside a value path, `type eq "work"` of `emails[type eq "work"]`, checked against the
 * collection's sub-attributes: the one grammar for query filters, PATCH paths and member filters.
 */
export function parseValueFilter(catalog: Catalog, collection: Collection, filter: string): UserFilter {
  if (filter.length > FILTER_MAX_LENGTH) {
    throw invalidFilter(`The filter is longer than ${FILTER_MAX_LENGTH} characters.`);
  }
  if (!filter.trim()) throw invalidFilter(`The filter in ${collection}[...] is empty.`);
  checkQuotes(filter);
  return check(catalog, parseSyntax(filter), 1, collection);
}
