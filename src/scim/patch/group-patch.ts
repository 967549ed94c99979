import { ScimError } from '../../lib/errors.js';
import type { GroupWrite } from '../../provisioning/groups.js';
import { checkSchemas } from '../resources/user-mapper.js';
import { GROUP_CATALOG } from '../filter/catalog.js';
import { namedValues } from '../filter/match.js';
import { parseValueFilter } from '../filter/parse.js';
import { CORE_GROUP, PATCH_OP } from '../schema/urns.js';
import { isObject, member } from '../schema/json.js';

/*
 * Group bodies (POST, PUT) and PatchOp messages (RFC 7644 §3.5.2) as one group write. Members are
 * never read into memory to apply a PATCH: the operations are folded, in order, into "replace the
 * members with this set" or "add these, remove those", which the provisioning layer applies with
 * set-based SQL under the group's lock. What identity providers send, all accepted:
 * - Okta: `add` of members, `remove` with `members[value eq "<id>"]`, a path-less `replace` of
 *   `{ id, displayName }` (a rename; the id must be the group's own);
 * - Entra ID: `Add`/`Remove`/`Replace` in any case, `remove` with `path: "members"` and a list of
 *   `{ value }` (remove those), `replace` of `displayName` or `externalId`.
 * Repeated adds and removes of non-members succeed and change nothing.
 */

type Obj = Record<string, unknown>;
const MAX_OPERATIONS = 1000;
const invalid = (scimType: string, detail: string): ScimError => new ScimError(400, scimType, detail);

function stringOrNull(value: unknown, what: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalid('invalidValue', `${what} must be a string.`);
  return value;
}

/** The user ids of a members value: an array of `{ value, type?: "User" }` (one object is accepted). */
export function memberIds(value: unknown, where = 'members'): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.length > 100_000) throw invalid('invalidValue', `${where} holds more than 100000 members.`);
  return list.map((m, i) => {
    if (!isObject(m)) throw invalid('invalidValue', `${where}[${i}] must be an object with a value.`);
    const id = member(m, 'value');
    if (typeof id !== 'string' || !id.trim())
      throw invalid('invalidValue', `${where}[${i}].value must be the id of a user.`);
    const type = member(m, 'type');
    if (type !== undefined && type !== null && (typeof type !== 'string' || type.toLowerCase() !== 'user')) {
      throw invalid(
        'invalidValue',
        `${where}[${i}] has type ${JSON.stringify(type)}: only users can be members (groups do not nest).`,
      );
    }
    return id.trim().toLowerCase();
  });
}

/** Member changes folded in order: a full set, or adds and removes against what is stored. */
class MemberFold {
  private set?: Set<string>;
  private readonly add = new Set<string>();
  private readonly remove = new Set<string>();
  touched = false;

  addAll(ids: string[]): void {
    this.touched = true;
    for (const id of ids) {
      if (this.set) this.set.add(id);
      else {
        this.add.add(id);
        this.remove.delete(id);
      }
    }
  }

  removeAll(ids: string[]): void {
    this.touched = true;
    for (const id of ids) {
      if (this.set) this.set.delete(id);
      else {
        this.add.delete(id);
        this.remove.add(id);
      }
    }
  }

  replace(ids: string[]): void {
    this.touched = true;
    this.set = new Set(ids);
    this.add.clear();
    this.remove.clear();
  }

  changes(): GroupWrite['members'] {
    if (!this.touched) return undefined;
    if (this.set) return { set: [...this.set] };
    return { add: [...this.add], remove: [...this.remove] };
  }
}

/** `members[value eq "a"]` or `members[value eq "a" or value eq "b"]`: the ids it names. */
function memberFilter(path: string): string[] | undefined {
  const open = path.indexOf('[');
  if (open < 0 || path.slice(0, open).trim().toLowerCase() !== 'members' || !path.endsWith(']'))
    return undefined;
  const inner = path.slice(open + 1, -1);
  const ids = namedValues(parseValueFilter(GROUP_CATALOG, 'members', inner));
  if (!ids) {
    throw invalid(
      'invalidFilter',
      `The member filter [${inner.slice(0, 100)}] is not supported: select members by value, as in members[value eq "<user id>"], joined by "or".`,
    );
  }
  return ids.map((id) => id.trim().toLowerCase());
}

/** Strips the core Group schema URN from an attribute path: urn:...:Group:displayName → displayName. */
function bare(path: string): string {
  const prefix = `${CORE_GROUP.toLowerCase()}:`;
  return path.toLowerCase().startsWith(prefix) ? path.slice(prefix.length) : path;
}

interface Current {
  id: string;
}

function applyAttributes(
  write: GroupWrite,
  fold: MemberFold,
  op: string,
  value: Obj,
  current: Current,
): void {
  for (const [key, v] of Object.entries(value)) {
    const name = bare(key).toLowerCase();
    if (name === 'displayname') write.name = stringOrNull(v, 'displayName') ?? '';
    else if (name === 'externalid') write.externalId = stringOrNull(v, 'externalId');
    else if (name === 'members') {
      if (op === 'replace') fold.replace(memberIds(v));
      else fold.addAll(memberIds(v));
    } else if (name === 'id') {
      if (typeof v !== 'string' || v.toLowerCase() !== current.id.toLowerCase())
        throw invalid('mutability', 'id is read-only: it cannot be changed.');
    } else if (name === 'schemas' || name === 'meta') continue;
    else
      throw invalid('invalidPath', `A Group has no attribute '${key}' (displayName, externalId, members).`);
  }
}

function applyOperation(write: GroupWrite, fold: MemberFold, raw: unknown, current: Current): void {
  if (!isObject(raw))
    throw invalid('invalidSyntax', 'an operation must be an object with op, path and value');
  const opRaw = member(raw, 'op');
  const op = typeof opRaw === 'string' ? opRaw.toLowerCase() : '';
  if (op !== 'add' && op !== 'replace' && op !== 'remove')
    throw invalid('invalidSyntax', 'op must be "add", "replace" or "remove"');
  const pathRaw = member(raw, 'path');
  if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== 'string')
    throw invalid('invalidPath', 'path must be a string');
  const path = typeof pathRaw === 'string' ? bare(pathRaw.trim()) : undefined;
  const value = member(raw, 'value');
  if (path === undefined || path === '') {
    if (op === 'remove') throw invalid('noTarget', 'remove needs a path');
    if (!isObject(value)) throw invalid('invalidSyntax', 'without a path, value must be an object');
    applyAttributes(write, fold, op, value, current);
    return;
  }
  if (op !== 'remove' && value === undefined) throw invalid('invalidSyntax', `${op} needs a value`);
  const filtered = memberFilter(path);
  if (filtered) {
    if (op !== 'remove')
      throw invalid('invalidPath', `${op} on ${path} is not supported: add members with path "members".`);
    fold.removeAll(filtered);
    return;
  }
  switch (path.toLowerCase()) {
    case 'members':
      if (op === 'add') fold.addAll(memberIds(value));
      else if (op === 'replace') fold.replace(memberIds(value));
      // Entra ID's form: remove with path "members" and the members to remove as the value.
      else if (value !== undefined && value !== null) fold.removeAll(memberIds(value));
      else fold.replace([]);
      return;
    case 'displayname':
      if (op === 'remove')
        throw invalid('mutability', 'displayName is required: it can be replaced, not removed.');
      write.name = stringOrNull(value, 'displayName') ?? '';
      return;
    case 'externalid':
      write.externalId = op === 'remove' ? null : stringOrNull(value, 'externalId');
      return;
    default:
      throw invalid(
        'invalidPath',
        `A Group has no attribute path '${path}': use displayName, externalId, members or members[value eq "<user id>"].`,
      );
  }
}

/** A PatchOp message as a group write; all or nothing: the first bad operation is the 400. */
export function groupPatch(body: unknown, current: Current): GroupWrite {
  if (!isObject(body)) throw invalid('invalidSyntax', 'The body must be a PatchOp message (a JSON object).');
  const schemas = member(body, 'schemas');
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP.toLowerCase())
  )
    throw invalid('invalidSyntax', `schemas must contain "${PATCH_OP}".`);
  const operations = member(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0 || operations.length > MAX_OPERATIONS)
    throw invalid('invalidSyntax', `Operations must be an array of 1 to ${MAX_OPERATIONS} operations.`);
  const write: GroupWrite = {};
  const fold = new MemberFold();
  operations.forEach((raw, index) => {
    try {
      applyOperation(write, fold, raw, current);
    } catch (error) {
      if (error instanceof ScimError)
        throw new ScimError(400, error.scimType, `Operations[${index}]: ${error.detail}`);
      throw error;
    }
  });
  const members = fold.changes();
  if (members) write.members = members;
  return write;
}

/** A Group body (POST, or PUT: a replace, so members not sent are none). */
export function groupBody(body: unknown): { name: string; externalId: string | null; members: string[] } {
  if (!isObject(body)) throw invalid('invalidSyntax', 'The body must be a JSON object (a SCIM Group).');
  checkSchemas(body, CORE_GROUP, 'Group');
  const name = member(body, 'displayName');
  if (typeof name !== 'string' || !name.trim()) throw invalid('invalidValue', 'displayName is required.');
  const externalId = member(body, 'externalId');
  return {
    name,
    externalId: externalId === undefined ? null : stringOrNull(externalId, 'externalId'),
    members: memberIds(member(body, 'members')),
  };
}
