import { ScimError } from '../../lib/errors.js';
import { matchesElement, seedOf } from '../filter/match.js';
import { ENTERPRISE_USER, LOOPIT_USER, PATCH_OP } from '../schema/urns.js';
import {
  CORE_SCHEMA,
  lookup,
  parsePath,
  show,
  type AttrDef,
  type ParsedPath,
  type SchemaDef,
} from './path.js';
import { isObject, member } from '../schema/json.js';

/*
 * Written here rather than taken from the `scim-patch` package: that package is schema-less, so it cannot
 * resolve names case-insensitively to their canonical spelling, convert Entra ID's "True"/"False", check
 * types and mutability or refuse `__proto__`, and its `treatMissingAsAdd` is not DESIGN's rule (add, or
 * replace on a `[type eq "..."]` filter). Value-filter paths are parsed in patch-path.ts, which resolves
 * names against the schema while parsing; `scim2-parse-filter` would add an AST walk and keeps the
 * caller's case.
 *
 * Readings of the RFC: add and replace on a single-valued complex attribute (name, manager, a whole
 * extension) merge the sub-attributes given and leave the others; on a multi-valued attribute without a
 * filter, add appends (an element equal on its given identifying sub-attributes is merged instead) and
 * replace swaps the whole list; on filter-matched elements both merge. Replace of an attribute that is
 * not set adds it (§3.5.2.3). A null value, or an empty list for replace, clears the attribute. Removing
 * an attribute that is not set is a no-op; only unmatched value filters are `noTarget`.
 */

/** A SCIM User resource as plain JSON (RFC 7643 §4.1), extensions under their URN keys. */
export type ScimUserJson = Record<string, unknown>;

export const MAX_PATCH_OPERATIONS = 1000;
const MAX_DEPTH = 10;
const MAX_STRING = 65_536;

type Obj = Record<string, unknown>;
type Operation = { op: 'add' | 'replace' | 'remove'; path?: string; value?: unknown };

const fail = (scimType: string, detail: string): ScimError => new ScimError(400, scimType, detail);
const fold = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);
const needsFilter = (attr: AttrDef): ScimError =>
  fail('invalidPath', `select elements of ${attr.name} with a filter, e.g. ${attr.name}[type eq "work"]`);

const withContext = (error: unknown, where: string): unknown =>
  error instanceof ScimError ? new ScimError(400, error.scimType, `${where}: ${error.detail}`) : error;

/**
 * Applies a PatchOp message to a User and returns the patched copy; the argument is never mutated.
 * All or nothing: the first failing operation throws `ScimError(400, scimType, detail)` with the
 * operation's index and path in `detail` (invalidSyntax, invalidPath, invalidValue, noTarget, mutability).
 */
export function applyPatch(resource: ScimUserJson, body: unknown): ScimUserJson {
  const operations = parseBody(body);
  const result = structuredClone(resource);
  operations.forEach((operation, index) => {
    const path = operation.path === undefined ? '' : ` ${show(operation.path)}`;
    try {
      applyOperation(result, operation);
    } catch (error) {
      throw withContext(error, `Operations[${index}] (${operation.op}${path})`);
    }
  });
  syncExtensions(result);
  return result;
}

function parseBody(body: unknown): Operation[] {
  if (!isObject(body)) throw fail('invalidSyntax', 'The body must be a PatchOp message (a JSON object).');
  const schemas = member(body, 'schemas');
  const urn = PATCH_OP.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn)) {
    throw fail('invalidSyntax', `schemas must contain "${PATCH_OP}".`);
  }
  const operations = member(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0 || operations.length > MAX_PATCH_OPERATIONS) {
    throw fail('invalidSyntax', `Operations must be an array of 1 to ${MAX_PATCH_OPERATIONS} operations.`);
  }
  return operations.map((raw, index) => {
    try {
      return parseOperation(raw);
    } catch (error) {
      throw withContext(error, `Operations[${index}]`);
    }
  });
}

function parseOperation(raw: unknown): Operation {
  if (!isObject(raw)) throw fail('invalidSyntax', 'an operation must be an object with op, path and value');
  const op = member(raw, 'op');
  const name = typeof op === 'string' ? op.toLowerCase() : '';
  if (name !== 'add' && name !== 'replace' && name !== 'remove') {
    throw fail('invalidSyntax', 'op must be "add", "replace" or "remove"');
  }
  const rawPath = member(raw, 'path');
  const path = typeof rawPath === 'string' ? rawPath.trim() : rawPath;
  if (path != null && (typeof path !== 'string' || path === '')) throw fail('invalidPath', 'path is empty');
  const value = member(raw, 'value');
  if (name !== 'remove' && value === undefined) throw fail('invalidSyntax', `${name} needs a value`);
  if (path == null && name === 'remove') throw fail('noTarget', 'remove needs a path');
  if (path == null && !isObject(value))
    throw fail('invalidSyntax', 'without a path, value must be an object');
  checkBounds(value, 0);
  return { op: name, path: path ?? undefined, value };
}

function checkBounds(value: unknown, depth: number): void {
  if (typeof value === 'string' && value.length > MAX_STRING) {
    throw fail('invalidValue', `strings are at most ${MAX_STRING} characters`);
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_DEPTH) throw fail('invalidValue', `values are nested at most ${MAX_DEPTH} levels deep`);
  for (const child of Object.values(value)) checkBounds(child, depth + 1);
}

function applyOperation(resource: Obj, { op, path, value }: Operation): void {
  if (path === undefined) {
    applyToSchema(resource, CORE_SCHEMA, op as 'add' | 'replace', value as Obj);
  } else if (op === 'remove') {
    remove(resource, parsePath(path), value, false);
  } else {
    set(resource, parsePath(path), op, value);
  }
}

/** Path-less add/replace, or one on a whole extension: each key is itself a path (dotted, URN, filter). */
function applyToSchema(resource: Obj, schema: SchemaDef, op: 'add' | 'replace', value: Obj): void {
  for (const [key, item] of Object.entries(value)) {
    try {
      set(resource, parsePath(key, schema), op, item);
    } catch (error) {
      throw withContext(error, `value key ${show(key)}`);
    }
  }
}

function guard(attr: AttrDef, removing: boolean, sub?: AttrDef): void {
  if (attr.readOnly) throw fail('mutability', `${attr.name} is read-only`);
  if (sub?.readOnly) throw fail('mutability', `${attr.name}.${sub.name} is read-only`);
  if (removing && attr.required) throw fail('mutability', `${attr.name} is required and cannot be removed`);
  if (removing && !attr.removable)
    throw fail('mutability', `${attr.name} cannot be removed: replace it instead`);
}

/** The object holding a schema's attributes: the resource itself, or its extension object. */
function holderOf(resource: Obj, schema: SchemaDef, create: boolean): Obj | undefined {
  if (!schema.extension) return resource;
  if (create && !isObject(resource[schema.urn])) resource[schema.urn] = {};
  const holder = resource[schema.urn];
  return isObject(holder) ? holder : undefined;
}

function set(resource: Obj, target: ParsedPath, op: 'add' | 'replace', value: unknown): void {
  const { schema, attr, filter, sub } = target;
  if (attr?.discarded) {
    // Stored nowhere, but checked like any value: a password is a string.
    if (value !== null) coerceSimple(attr, value);
    return;
  }
  if (!attr) {
    if (!isObject(value)) throw fail('invalidValue', `${schema.urn} takes an object of its attributes`);
    applyToSchema(resource, schema, op, value);
    return;
  }
  guard(attr, false, sub);
  const emptyList = Array.isArray(value) && value.length === 0 && !filter && !sub;
  if (value === null || (emptyList && op === 'replace')) {
    remove(resource, target, undefined, true);
    return;
  }
  const holder = holderOf(resource, schema, true) as Obj;
  if (filter) {
    const list = listOf(holder, attr);
    const patch = sub ? { [sub.name]: coerceSimple(sub, value) } : coerceComplex(attr, value);
    let touched = list.filter((element) => matchesElement(filter, element));
    if (touched.length === 0) {
      const seed = seedOf(filter);
      if (!seed || (op === 'replace' && !seed.has('type'))) {
        throw fail('noTarget', `no element of ${attr.name} matches the filter`);
      }
      const created = merge(Object.fromEntries(seed), patch);
      if (!hasContent(created)) throw fail('noTarget', `no element of ${attr.name} matches the filter`);
      touched = [created];
      list.push(created);
    } else {
      touched.forEach((element) => merge(element, patch));
    }
    storeList(holder, attr, list, touched);
  } else if (attr.multi) {
    if (sub) throw needsFilter(attr);
    const items = coerceList(attr, value);
    const list = op === 'replace' ? items : listOf(holder, attr);
    const touched = op === 'replace' ? items : items.map((item) => addElement(list, item));
    storeList(holder, attr, list, touched);
  } else if (attr.type === 'complex') {
    const patch = sub ? { [sub.name]: coerceSimple(sub, value) } : coerceComplex(attr, value);
    const merged = merge(isObject(holder[attr.name]) ? (holder[attr.name] as Obj) : {}, patch);
    if (Object.keys(merged).length > 0) holder[attr.name] = merged;
    else delete holder[attr.name];
  } else {
    holder[attr.name] = coerceSimple(attr, value);
  }
}

function remove(resource: Obj, target: ParsedPath, value: unknown, tolerant: boolean): void {
  const { schema, attr, filter, sub } = target;
  if (attr?.discarded) return;
  if (!attr) {
    if (!schema.extension) throw fail('invalidPath', 'the resource itself cannot be removed');
    delete resource[schema.urn];
    return;
  }
  guard(attr, !sub, sub);
  const holder = holderOf(resource, schema, false);
  if (filter) {
    const list = holder ? listOf(holder, attr) : [];
    const hit = list.filter((element) => matchesElement(filter, element));
    if (hit.length === 0) {
      if (tolerant) return;
      throw fail('noTarget', `no element of ${attr.name} matches the filter`);
    }
    if (sub) hit.forEach((element) => delete element[sub.name]);
    const kept = list.filter((element) => !hit.includes(element) || (sub && hasContent(element)));
    storeList(holder as Obj, attr, kept, []);
  } else if (!holder) {
    return;
  } else if (attr.multi) {
    if (sub) throw needsFilter(attr);
    if (value === undefined || value === null) {
      delete holder[attr.name];
      return;
    }
    // Entra ID removes chosen values with `{ op: "remove", path: "emails", value: [{ value: "..." }] }`.
    const list = listOf(holder, attr);
    const items = coerceList(attr, value);
    const kept = list.filter((element) => !items.some((item) => sameElement(element, item)));
    if (kept.length === list.length && !tolerant) throw fail('noTarget', `no ${attr.name} matches`);
    storeList(holder, attr, kept, []);
  } else if (sub) {
    const parent = holder[attr.name];
    if (!isObject(parent)) return;
    delete parent[sub.name];
    if (Object.keys(parent).length === 0) delete holder[attr.name];
  } else {
    delete holder[attr.name];
  }
}

function listOf(holder: Obj, attr: AttrDef): Obj[] {
  const existing = holder[attr.name];
  return Array.isArray(existing) ? existing.filter(isObject) : [];
}

/** Stores a list (or drops an empty one); a `primary: true` among `touched` clears it on the others. */
function storeList(holder: Obj, attr: AttrDef, list: Obj[], touched: Obj[]): void {
  const primaries = touched.filter((element) => element.primary === true);
  if (primaries.length > 1) throw fail('invalidValue', `only one element of ${attr.name} can be primary`);
  const [primary] = primaries;
  for (const other of list) if (primary && other !== primary && other.primary === true) other.primary = false;
  if (list.length > 0) holder[attr.name] = list;
  else delete holder[attr.name];
}

/** An element is worth keeping while it holds something besides its `type` and `primary` flags. */
const hasContent = (element: Obj): boolean =>
  Object.keys(element).some((k) => k !== 'type' && k !== 'primary');

/** The same element when every identifying sub-attribute the item gives (all but primary, display) agrees. */
function sameElement(element: Obj, item: Obj): boolean {
  const keys = Object.keys(item).filter((k) => k !== 'primary' && k !== 'display');
  return keys.length > 0 && keys.every((k) => fold(element[k]) === fold(item[k]));
}

function addElement(list: Obj[], item: Obj): Obj {
  const existing = list.find((element) => sameElement(element, item));
  if (existing) return merge(existing, item);
  list.push(item);
  return item;
}

/** Copies the patch's sub-attributes onto the target; a null sub-value removes that sub-attribute. */
function merge(target: Obj, patch: Obj): Obj {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else target[key] = value;
  }
  return target;
}

function coerceSimple(attr: AttrDef, value: unknown): string | boolean {
  if (attr.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    // Entra ID sends booleans as "True" / "False".
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    throw fail('invalidValue', `${attr.name} must be a boolean`);
  }
  if (attr.type === 'complex') throw fail('invalidValue', `${attr.name} must be an object`);
  if (typeof value !== 'string') throw fail('invalidValue', `${attr.name} must be a string`);
  return value;
}

/** A new object holding only known sub-attributes, canonically spelled; unknown names are invalidPath. */
function coerceComplex(attr: AttrDef, value: unknown): Obj {
  // Entra ID sends the enterprise manager as the manager's id alone.
  if (typeof value === 'string' && attr.subs.has('value')) return { value };
  if (!isObject(value)) throw fail('invalidValue', `${attr.name} must be an object`);
  const out: Obj = {};
  for (const [key, item] of Object.entries(value)) {
    const sub = lookup(attr.subs, key, attr.name);
    out[sub.name] = item === null ? null : coerceSimple(sub, item);
  }
  return out;
}

function coerceList(attr: AttrDef, value: unknown): Obj[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    const element = merge({}, coerceComplex(attr, item));
    if (Object.keys(element).length === 0) throw fail('invalidValue', `an element of ${attr.name} is empty`);
    return element;
  });
}

/** Drops empty extension objects and keeps `schemas` listing exactly the extensions present. */
function syncExtensions(resource: Obj): void {
  for (const urn of [ENTERPRISE_USER, LOOPIT_USER]) {
    const extension = resource[urn];
    const present = isObject(extension) && Object.keys(extension).length > 0;
    if (!present) delete resource[urn];
    const { schemas } = resource;
    if (!Array.isArray(schemas) || schemas.includes(urn) === present) continue;
    resource.schemas = present ? [...(schemas as unknown[]), urn] : schemas.filter((s) => s !== urn);
  }
}
