import type { UserFilter } from './parse.js';

/*
 * A value filter (from parseValueFilter) evaluated on one element of a multi-valued attribute held in
 * memory: what PATCH paths such as emails[type eq "work"] select. Elements hold canonical sub-attribute
 * names, which are the storage keys of the catalogue. Booleans were made booleans by the parser
 * ("True" included); strings compare ignoring case unless the sub-attribute is caseExact.
 */

type Element = Record<string, unknown>;
const keyOf = (f: { attr: { storage?: { kind: string; key?: string } } }): string =>
  f.attr.storage?.key ?? '';

function compare(f: Extract<UserFilter, { kind: 'compare' }>, element: Element): boolean {
  const actual = element[keyOf(f)];
  if (typeof f.value === 'boolean') return actual === f.value;
  if (typeof actual !== 'string') return false;
  const [a, e] = f.attr.caseExact ? [actual, f.value] : [actual.toLowerCase(), f.value.toLowerCase()];
  switch (f.op) {
    case 'eq':
      return a === e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
  }
}

export function matchesElement(filter: UserFilter, element: Element): boolean {
  switch (filter.kind) {
    case 'compare':
      return compare(filter, element);
    case 'present': {
      const v = element[keyOf(filter)];
      return v !== undefined && v !== null && v !== '';
    }
    case 'and':
      return filter.filters.every((f) => matchesElement(f, element));
    case 'or':
      return filter.filters.some((f) => matchesElement(f, element));
    case 'not':
      return !matchesElement(filter.filter, element);
    case 'any':
      return false;
  }
}

/**
 * The element a filter describes when it is a conjunction of `eq` on sub-attributes (`type eq "work"`,
 * `type eq "work" and primary eq true`): what a PATCH creates when no element matches.
 */
export function seedOf(filter: UserFilter): Map<string, string | boolean> | undefined {
  if (filter.kind === 'compare')
    return filter.op === 'eq' ? new Map([[keyOf(filter), filter.value]]) : undefined;
  if (filter.kind !== 'and') return undefined;
  const seed = new Map<string, string | boolean>();
  for (const part of filter.filters) {
    const more = seedOf(part);
    if (!more) return undefined;
    for (const [key, value] of more) {
      const had = seed.get(key);
      const fold = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
      if (had !== undefined && fold(had) !== fold(value)) return undefined;
      seed.set(key, value);
    }
  }
  return seed;
}

/** The values a filter names when it is `value eq "a"` or a disjunction of such (members[value eq "..."]). */
export function namedValues(filter: UserFilter): string[] | undefined {
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    keyOf(filter) === 'value' &&
    typeof filter.value === 'string'
  )
    return [filter.value];
  if (filter.kind !== 'or') return undefined;
  const values: string[] = [];
  for (const part of filter.filters) {
    const named = namedValues(part);
    if (!named) return undefined;
    values.push(...named);
  }
  return values;
}
