import { ScimError } from '../lib/errors.js';
import {
  CORE_GROUP,
  CORE_USER,
  ENTERPRISE_USER,
  GROUP_SCHEMA,
  LOOPIT_USER,
  USER_SCHEMAS,
  type ScimAttribute,
  type ScimSchema,
} from './schemas.js';

/**
 * Which attributes of a User or a Group a filter may name, where each is stored, and its type and caseExact as the
 * schemas say. Names are matched ignoring case, with or without their schema URN; extension
 * attributes may also be named bare when no core attribute has the name.
 */

export type Collection = 'emails' | 'phoneNumbers' | 'addresses' | 'members';

export type Storage =
  | { kind: 'userName' }
  /** A group's displayName: the role's name, compared through its key. */
  | { kind: 'groupName' }
  | { kind: 'id' }
  | { kind: 'active' }
  | { kind: 'time'; column: 'created_at' | 'updated_at' }
  | { kind: 'column'; column: 'external_id' | 'given_name' | 'family_name' }
  | { kind: 'displayName' }
  | { kind: 'json'; path: string[] }
  | { kind: 'named'; table: 'roles' | 'locations'; column: 'role_id' | 'location_id' }
  | { kind: 'element'; collection: Collection; key: string };

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
}

const COLLECTIONS: readonly Collection[] = ['emails', 'phoneNumbers', 'addresses'];
const GROUP_COLUMNS = ['externalId'];
const JSON_CORE = ['nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'];
const JSON_ENTERPRISE = ['employeeNumber', 'costCenter', 'organization', 'division', 'department'];

function storageOf(schema: string, path: string): Storage | undefined {
  const [name = '', sub] = path.split('.');
  if (schema === CORE_USER) {
    if (COLLECTIONS.includes(name as Collection))
      return { kind: 'element', collection: name as Collection, key: sub ?? 'value' };
    if (JSON_CORE.includes(path)) return { kind: 'json', path: [path] };
    switch (path) {
      case 'userName':
        return { kind: 'userName' };
      case 'externalId':
        return { kind: 'column', column: 'external_id' };
      case 'displayName':
      case 'name.formatted':
        return { kind: 'displayName' };
      case 'name.givenName':
        return { kind: 'column', column: 'given_name' };
      case 'name.familyName':
        return { kind: 'column', column: 'family_name' };
      case 'active':
        return { kind: 'active' };
    }
    return undefined;
  }
  if (schema === ENTERPRISE_USER) {
    if (JSON_ENTERPRISE.includes(path)) return { kind: 'json', path: [ENTERPRISE_USER, path] };
    if (name === 'manager' && sub && sub !== '$ref')
      return { kind: 'json', path: [ENTERPRISE_USER, 'manager', sub] };
    return undefined;
  }
  if (schema === CORE_GROUP) {
    if (name === 'members') return { kind: 'element', collection: 'members', key: sub ?? 'value' };
    if (path === 'displayName') return { kind: 'groupName' };
    if (GROUP_COLUMNS.includes(path)) return { kind: 'column', column: 'external_id' };
    return undefined;
  }
  if (schema === LOOPIT_USER) {
    if (path === 'role') return { kind: 'named', table: 'roles', column: 'role_id' };
    if (path === 'location') return { kind: 'named', table: 'locations', column: 'location_id' };
  }
  return undefined;
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
      for (const a of schema.attributes) {
        const storage = storageOf(schema.id, a.name);
        const multi = a.multiValued && storage?.kind === 'element';
        this.add(schema.id, a.name, {
          path: `${prefix}${a.name}`,
          // A multi-valued attribute named alone stands for its value sub-attribute (a string).
          type: multi ? 'string' : typeOf(a),
          caseExact: a.caseExact,
          ...(storage ? { storage } : {}),
          ...(multi ? { collection: a.name as Collection } : {}),
        });
        for (const s of a.subAttributes ?? []) {
          const path = `${a.name}.${s.name}`;
          const subStorage = storageOf(schema.id, path);
          const owner = `${prefix}${a.name}`;
          if (subStorage) this.subs.set(owner, [...(this.subs.get(owner) ?? []), `${prefix}${path}`]);
          this.add(schema.id, path, {
            path: `${prefix}${path}`,
            type: typeOf(s),
            caseExact: s.caseExact,
            ...(subStorage ? { storage: subStorage } : {}),
          });
        }
      }
    }
    // Common attributes (RFC 7643 §3.1) belong to no schema's attribute list.
    this.add(core, 'id', { path: 'id', type: 'string', caseExact: true, storage: { kind: 'id' } });
    this.add(core, 'meta.created', {
      path: 'meta.created',
      type: 'dateTime',
      caseExact: false,
      storage: { kind: 'time', column: 'created_at' },
    });
    this.add(core, 'meta.lastModified', {
      path: 'meta.lastModified',
      type: 'dateTime',
      caseExact: false,
      storage: { kind: 'time', column: 'updated_at' },
    });
  }

  private add(schema: string, path: string, entry: FilterAttribute): void {
    this.attributes.set(`${schema}:${path}`.toLowerCase(), entry);
    if (!this.attributes.has(path.toLowerCase())) this.attributes.set(path.toLowerCase(), entry);
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
export const GROUP_CATALOG = new Catalog('Group', [GROUP_SCHEMA]);

export const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail);

function usable(catalog: Catalog, raw: string, entry: FilterAttribute | undefined): FilterAttribute {
  if (!entry) throw catalog.unknown(raw);
  const subs = catalog.subs.get(entry.path);
  if (entry.type === 'complex' && !entry.collection && subs) {
    throw invalidFilter(
      `'${entry.path}' is a complex attribute: filter on one of its sub-attributes (${subs.join(', ')}).`,
    );
  }
  if (!entry.storage) {
    const hint = entry.path.startsWith('roles') ? ` Filter on ${LOOPIT_USER}:role instead.` : '';
    throw invalidFilter(`The attribute '${entry.path}' cannot be used in a filter.${hint}`);
  }
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
