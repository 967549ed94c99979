import type { Db } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import {
  createGroup,
  deleteGroup,
  updateGroup,
  type GroupCommitHook,
  type GroupFailure,
  type GroupOutcome,
  type GroupRole,
  type GroupWrite,
} from '../../provisioning/groups.js';
import { scimBase } from '../schema/discovery.service.js';
import { versionOf, weakEtag } from './etag.js';
import { userFilterSql, parseGroupFilter } from '../filter/sql.js';
import { groupBody, groupPatch } from '../patch/group-patch.js';
import * as repo from './groups.repository.js';
import { deferMembers, projectResource } from './deferred.js';
import { pageOf, pagedList, type ListParams } from './lists.js';
import { CORE_GROUP } from '../schema/urns.js';
import { groupOrderSql } from '../filter/sort.js';
import type { ScimCaller } from './users.service.js';

export type ScimGroupJson = Record<string, unknown>;

export const groupLocation = (publicUrl: string, id: string): string => `${scimBase(publicUrl)}/Groups/${id}`;

const notFound = (id: string) => new ScimError(404, undefined, `Group ${id} not found.`);

/** Members read per query while a group's answer is written. */
const MEMBER_PAGE = 5000;

/** Whether `attributes` names members (or one of their sub-attributes): only then do writes answer them. */
export function namesMembers(attributes?: string): boolean {
  return (attributes ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(`${CORE_GROUP.toLowerCase()}:`, '').split('.')[0])
    .includes('members');
}

const memberJson = (base: string, m: repo.ScimMemberRow) => ({
  value: m.id,
  $ref: `${base}/Users/${m.id}`,
  display: m.display,
  type: 'User',
});

/**
 * The group's members, page by page in user id order, each page read with the group's version in the
 * same snapshot. A membership change bumps the version in its own transaction, so when every page saw
 * the version the answer started with, the list is exactly the members at that version; when one did
 * not, the list would mix two states, and the answer is cut off instead (the error ends the response
 * without its closing brackets) for the client to read again. No transaction is held while the client
 * reads, so a slow reader holds no database connection.
 */
async function* memberPages(db: Db, caller: ScimCaller, group: repo.ScimGroupRow) {
  const base = scimBase(caller.publicUrl);
  let after: string | undefined;
  for (;;) {
    const page = await repo.memberPage(db, caller.workspaceId, group.id, after, MEMBER_PAGE);
    if (page.version !== group.version) {
      throw new Error(
        `Group ${group.id} changed (version ${group.version}, now ${page.version ?? 'deleted'}) while its members were sent; the answer was cut off.`,
      );
    }
    yield page.members.filter((m) => m.live).map((m) => memberJson(base, m));
    if (page.members.length < MEMBER_PAGE) return;
    after = page.members[page.members.length - 1]!.id;
  }
}

/** A group as SCIM shows it; with `withMembers`, its members are streamed when the answer is written. */
function toScimGroup(
  db: Db,
  caller: ScimCaller,
  row: repo.ScimGroupRow,
  withMembers: boolean,
): ScimGroupJson {
  const group = {
    schemas: [CORE_GROUP],
    id: row.id,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    displayName: row.name,
    ...(withMembers ? { members: [] } : {}),
    meta: {
      resourceType: 'Group',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: groupLocation(caller.publicUrl, row.id),
      version: weakEtag(row.version),
    },
  };
  return withMembers ? deferMembers(group, () => memberPages(db, caller, row)) : group;
}

/** One group; its members (unless `withMembers` is false) are read only if the answer shows them. */
export async function getScimGroup(
  db: Db,
  caller: ScimCaller,
  id: string,
  withMembers = true,
): Promise<ScimGroupJson> {
  const row = isUuid(id) ? await repo.findScimGroup(db, caller.workspaceId, id) : undefined;
  if (!row) throw notFound(id);
  return toScimGroup(db, caller, row, withMembers);
}

export async function listScimGroups(db: Db, caller: ScimCaller, params: ListParams) {
  const { startIndex, count } = pageOf(params);
  const filter = params.filter ? userFilterSql(parseGroupFilter(params.filter), { alias: 'g' }) : undefined;
  const order = groupOrderSql(params.sortBy, params.sortOrder);
  const { rows, total } = await repo.listScimGroups(
    db,
    caller.workspaceId,
    filter,
    startIndex - 1,
    count,
    order,
  );
  return pagedList(
    total,
    startIndex,
    rows.map((r) =>
      projectResource(toScimGroup(db, caller, r, true), params.attributes, params.excludedAttributes),
    ),
  );
}

const SCIM_FAILURES: Record<GroupFailure['code'], [number, string | undefined]> = {
  not_found: [404, undefined],
  precondition_failed: [412, undefined],
  name_taken: [409, 'uniqueness'],
  invalid_name: [400, 'invalidValue'],
  default_role: [400, 'mutability'],
  unknown_members: [400, 'invalidValue'],
};

function check(outcome: GroupOutcome): Extract<GroupOutcome, { ok: true }> {
  if (outcome.ok) return outcome;
  const [status, scimType] = SCIM_FAILURES[outcome.code];
  throw new ScimError(status, scimType, outcome.message);
}

const by = (caller: ScimCaller) => ({
  actor: caller.actor,
  source: 'scim',
  ...(caller.operation ? { operation: caller.operation } : {}),
});

export type GroupMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A group write as a SCIM request asks it, without reading the group back: the role as committed (as
 * deleted, for DELETE). `id` is the target of PUT, PATCH and DELETE; `ifMatch` their precondition.
 * `inTransaction` runs inside the write's transaction, before it commits (GroupCommitHook).
 */
export async function writeScimGroup(
  db: Db,
  caller: ScimCaller,
  method: GroupMethod,
  target: { id?: string; body?: unknown; ifMatch?: string | undefined },
  inTransaction?: GroupCommitHook,
): Promise<GroupRole> {
  if (method === 'POST') {
    const input = groupBody(target.body);
    return check(await createGroup(db, caller.workspaceId, input, by(caller), inTransaction)).role;
  }
  // PUT is a replace: members not sent are removed, an externalId not sent is cleared.
  const input = method === 'PUT' ? groupBody(target.body) : undefined;
  const id = target.id ?? '';
  if (!isUuid(id)) throw notFound(id);
  const changes: GroupWrite | undefined = input
    ? { name: input.name, externalId: input.externalId, members: { set: input.members } }
    : method === 'PATCH'
      ? groupPatch(target.body, { id })
      : undefined;
  const expected = versionOf(target.ifMatch, 'group');
  const version = expected !== undefined ? { expectedVersion: expected } : {};
  if (!changes)
    return check(
      await deleteGroup(
        db,
        caller.workspaceId,
        id.toLowerCase(),
        { ...by(caller), ...version },
        inTransaction,
      ),
    ).role;
  const write = { ...changes, ...version };
  return check(await updateGroup(db, caller.workspaceId, id.toLowerCase(), write, by(caller), inTransaction))
    .role;
}

export async function createScimGroup(db: Db, caller: ScimCaller, body: unknown, withMembers = true) {
  const role = await writeScimGroup(db, caller, 'POST', { body });
  return getScimGroup(db, caller, role.id, withMembers);
}

/**
 * PUT: a replace; members not sent are removed, an externalId not sent is cleared. The answer shows the
 * members only `withMembers` (the request's attributes name them): a write's answer could otherwise be
 * a list of hundreds of thousands nobody reads.
 */
export async function replaceScimGroup(
  db: Db,
  caller: ScimCaller,
  id: string,
  body: unknown,
  ifMatch?: string,
  withMembers = false,
): Promise<ScimGroupJson> {
  await writeScimGroup(db, caller, 'PUT', { id, body, ifMatch });
  return getScimGroup(db, caller, id, withMembers);
}

/**
 * PATCH; as for PUT, the answer shows the members only when `answer` is 'members'. With 'version' (the
 * 204 answer) nothing is read back: the ETag is the version the write committed, not a later one.
 */
export async function patchScimGroup(
  db: Db,
  caller: ScimCaller,
  id: string,
  body: unknown,
  ifMatch?: string,
  answer: 'version' | 'group' | 'members' = 'group',
): Promise<ScimGroupJson> {
  const role = await writeScimGroup(db, caller, 'PATCH', { id, body, ifMatch });
  if (answer === 'version') return { meta: { version: weakEtag(role.version) } };
  return getScimGroup(db, caller, id, answer === 'members');
}

export async function deleteScimGroup(
  db: Db,
  caller: ScimCaller,
  id: string,
  ifMatch?: string,
): Promise<void> {
  await writeScimGroup(db, caller, 'DELETE', { id, ifMatch });
}
