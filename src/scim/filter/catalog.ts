import { ScimError } from '../../lib/errors.js';
import {
  COMMON_ATTRIBUTES,
  GROUP_SCHEMAS,
  USER_SCHEMAS,
  type Collection,
  type ScimAttribute,
  type ScimSchema,
  type Storage,
} from '../schema/model.js';

/**
 * Which attributes of a User or a Group a filter may name, where each is stored, and its type and caseExact as the
 * schemas say. Names are matched ignoring case, with or without their schema URN; extension
 * attributes may also be named bare when no core attribute has the name.
 */

export type { Collection, Storage } from '../schema/model.js';

export type FilterType = 'string' | 'boolean' | 'dateTime' | 'complex';

export interface FilterAttribute {
  /** The name as the schema spells it, for messages: emails.value, urn:...:employeeNumber. */
  path: string;
  type: FilterType;
  caseExact: boolean;
  /** Absent: in the schema, but not something a filter can use. */
  storage?: Storage;
  /** Set on a multi-valued attribute named without a sub-attribute (emails): it stands for its value. */
  collection?: Collection;
  /** sortBy may name it. */
  sortable: boolean;
}

const typeOf = (a: ScimAttribute): FilterType =>
  a.type === 'boolean' || a.type === 'dateTime' || a.type === 'complex' ? a.type : 'string';

/** The attributes of one resource type a filter may name. */
export class Catalog {
  // Keys are lower case: the qualified name always, the bare name unless taken (core comes first).
  private readonly attributes = new Map<string, FilterAttribute>();
  // The filterable sub-attributes of each complex attribute, for the message when one is named alone.
  readonly subs = new Map<string, string[]>();

  constructor(
    readonly resource: 'User' | 'Group',
    schemas: readonly ScimSchema[],
  ) {
    const core = schemas[0]!.id;
    for (const schema of schemas) {
      const prefix = schema.id === core ? '' : `${schema.id}:`;
      for (const a of schema.attributes) this.declare(schema.id, prefix, a);
    }
    // Common attributes (RFC 7643 §3.1) belong to no schema's attribute list.
    for (const a of COMMON_ATTRIBUTES) this.declare(core, '', a);
  }

  private declare(schema: string, prefix: string, a: ScimAttribute): void {
    const multi = a.multiValued && a.storage?.kind === 'element';
    this.add(schema, a.name, {
      path: `${prefix}${a.name}`,
      // A multi-valued attribute named alone stands for its value sub-attribute (a string).
      type: multi ? 'string' : typeOf(a),
      caseExact: a.caseExact,
      sortable: a.sortable === true || a.name === 'emails',
      ...(a.storage ? { storage: a.storage } : {}),
      ...(multi ? { collection: a.name as Collection } : {}),
    });
    for (const s of a.subAttributes ?? []) {
      const path = `${a.name}.${s.name}`;
      const owner = `${prefix}${a.name}`;
      if (s.storage) this.subs.set(owner, [...(this.subs.get(owner) ?? []), `${prefix}${path}`]);
      this.add(schema, path, {
        path: `${prefix}${path}`,
        type: typeOf(s),
        caseExact: s.caseExact,
        // The primary e-mail is the user's e-mail: sorting by emails.value sorts by it.
        sortable: s.sortable === true || (a.name === 'emails' && s.name === 'value'),
        ...(s.storage ? { storage: s.storage } : {}),
      });
    }
  }

  private add(schema: string, path: string, entry: FilterAttribute): void {
    this.attributes.set(`${schema}:${path}`.toLowerCase(), entry);
    if (!this.attributes.has(path.toLowerCase())) this.attributes.set(path.toLowerCase(), entry);
  }

  /** The names sortBy takes, for messages. */
  sortable(): string[] {
    return [
      ...new Set([...this.attributes.values()].filter((a) => a.sortable && a.storage).map((a) => a.path)),
    ];
  }

  get(raw: string): FilterAttribute | undefined {
    return this.attributes.get(raw.toLowerCase());
  }

  unknown(raw: string): ScimError {
    return invalidFilter(
      `Unknown attribute '${raw}' in filter; see /scim/v2/Schemas for the attributes of a ${this.resource}.`,
    );
  }
}

export const USER_CATALOG = new Catalog('User', USER_SCHEMAS);
export const GROUP_CATALOG = new Catalog('Group', GROUP_SCHEMAS);

export const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail);

function usable(catalog: Catalog, raw: string, entry: FilterAttribute | undefined): FilterAttribute {
  if (!entry) throw catalog.unknown(raw);
  const subs = catalog.subs.get(entry.path);
  if (entry.type === 'complex' && !entry.collection && subs) {
    throw invalidFilter(
      `'${entry.path}' is a complex attribute: filter on one of its sub-attributes (${subs.join(', ')}).`,
    );
  }
  if (!entry.storage) throw invalidFilter(`The attribute '${entry.path}' cannot be used in a filter.`);
  return entry;
}

/** The attribute a filter names outside any value path (userName, emails.type, urn:...:department). */
export function resolveAttribute(catalog: Catalog, raw: string): FilterAttribute {
  return usable(catalog, raw, catalog.get(raw));
}

/** The multi-valued attribute in front of a value path: emails[...]. */
export function resolveCollection(catalog: Catalog, raw: string): Collection {
  const entry = catalog.get(raw);
  if (!entry?.collection) {
    if (!entry) throw catalog.unknown(raw);
    throw invalidFilter(
      `'${entry.path}' is not a multi-valued attribute; a value path such as ${catalog.resource === 'User' ? 'emails[type eq "work"]' : 'members[value eq "..."]'} needs one.`,
    );
  }
  return entry.collection;
}

/** A sub-attribute inside a value path: type in emails[type eq "work"] (emails.type also accepted). */
export function resolveSubAttribute(catalog: Catalog, collection: Collection, raw: string): FilterAttribute {
  const entry = catalog.get(`${collection}.${raw}`) ?? catalog.get(raw);
  if (entry?.storage?.kind === 'element' && entry.storage.collection === collection && !entry.collection) {
    return usable(catalog, raw, entry);
  }
  throw invalidFilter(`'${raw}' is not a sub-attribute of ${collection} (in ${collection}[...]).`);
}
