import type { Db, DbOrTx } from '../db/index.js';
import { isUuid, newId } from '../lib/ids.js';
import { matchKey } from '../lib/text.js';
import * as repo from './groups.repository.js';
import type { GroupRole } from './groups.repository.js';
import * as memberships from './memberships.repository.js';
import type { MemberCounts, RoleJournal } from './memberships.repository.js';
import { insertAuditEvents, type AuditRow } from './users.repository.js';

/*
 * Group membership (DESIGN "Group membership"): a group is a role; memberships are stored as sent; a
 * user's effective role (users.role_id) is the highest-ranked role among their groups, else the role set
 * directly (users.direct_role_id). Every write here locks the role (FOR NO KEY UPDATE), then the users
 * it touches in id order, as the engine does, changes memberships with set-based statements and
 * recomputes the effective role of exactly the users whose memberships changed, in one transaction.
 * Concurrent membership changes of one group serialise on the role's lock, so none is lost. A group can
 * have hundreds of thousands of members: who was added, removed or moved stays in Postgres, and only
 * counts (and the first ids, for the audit event) come back.
 */

export type { GroupRole } from './groups.repository.js';

export interface GroupActor {
  actor: string;
  source: string;
  /** The request that asked for the write, kept in the audit events. */
  operation?: string;
}

/** What to do with a group's members: `set` replaces them; `add` and `remove` change them. */
export interface MemberChanges {
  set?: string[];
  add?: string[];
  remove?: string[];
}

export interface GroupWrite {
  name?: string;
  externalId?: string | null;
  members?: MemberChanges;
  expectedVersion?: number;
}

export type GroupFailure =
  | {
      code: 'not_found' | 'precondition_failed' | 'name_taken' | 'invalid_name' | 'default_role';
      message: string;
    }
  | { code: 'unknown_members'; message: string; ids: string[] };

/** A write's effect on members: how many were added and removed, and how many users' roles moved. */
export interface MemberEffect {
  added: number;
  removed: number;
  roleChanges: number;
}

export type GroupOutcome = ({ ok: true; role: GroupRole } & MemberEffect) | ({ ok: false } & GroupFailure);

/**
 * Runs inside a successful group write's transaction, after the write, with the role as it will
 * commit: what the caller records there (a SCIM Bulk operation's result) commits with the write, and
 * what it throws rolls the write back.
 */
export type GroupCommitHook = (tx: DbOrTx, role: GroupRole) => Promise<void>;

const failure = (f: GroupFailure): GroupOutcome => ({ ok: false, ...f });
const RETRYABLE = new Set(['40P01', '40001']);

/** Runs a group write in a transaction, again on a deadlock or serialisation failure. */
async function transact<T>(db: Db, work: (tx: DbOrTx) => Promise<T>, tries = 3): Promise<T> {
  try {
    return await db.transaction().execute(work);
  } catch (error) {
    if (tries > 1 && RETRYABLE.has((error as { code?: string }).code ?? ''))
      return transact(db, work, tries - 1);
    throw error;
  }
}

function checkName(raw: string): { name: string; key: string } | GroupFailure {
  const name = raw.trim();
  if (!name) return { code: 'invalid_name', message: 'displayName must not be empty.' };
  if (name.length > 200) return { code: 'invalid_name', message: 'displayName is at most 200 characters.' };
  return { name, key: matchKey(name) };
}

const taken = (name: string): GroupFailure => ({
  code: 'name_taken',
  message: `A group (role) named '${name}' already exists in this workspace (names ignore case).`,
});

const unique = (ids: string[]): string[] => [...new Set(ids.map((id) => id.toLowerCase()))];

function unknownMembers(missing: string[]): GroupFailure {
  const shown = missing.slice(0, 5).map((id) => `'${id}'`);
  const more = missing.length > 5 ? ` (and ${missing.length - 5} more)` : '';
  return {
    code: 'unknown_members',
    ids: missing,
    message: `No user with id ${shown.join(', ')}${more} in this workspace; members must be users provisioned first.`,
  };
}

/**
 * Applies member changes under the role's lock: locks every user whose role may change in one pass,
 * refuses ids that are not live users of the workspace, then changes the memberships and the roles
 * they decide, with their audit events, in one statement.
 */
async function applyMembers(
  tx: DbOrTx,
  workspaceId: string,
  role: GroupRole,
  changes: MemberChanges,
  by: GroupActor,
): Promise<MemberCounts | GroupFailure> {
  const wanted = unique([...(changes.set ?? []), ...(changes.add ?? [])]);
  const notIds = wanted.filter((id) => !isUuid(id));
  if (notIds.length > 0) return unknownMembers(notIds);
  // Removing someone who is not a member (or not a user) changes nothing, as a repeated add does.
  const adding = new Set(wanted);
  const removing = unique(changes.remove ?? []).filter((id) => isUuid(id) && !adding.has(id));
  const replace = changes.set !== undefined;
  const absent = new Set(
    await memberships.lockUsers(tx, workspaceId, {
      ids: [...wanted, ...removing],
      ...(replace ? { membersOf: role.id } : {}),
    }),
  );
  const missing = wanted.filter((id) => absent.has(id));
  if (missing.length > 0) return unknownMembers(missing);
  return memberships.changeMembers(
    tx,
    workspaceId,
    role.id,
    replace ? { set: wanted } : { add: wanted, remove: removing },
    roleJournal(by, role),
  );
}

const operationOf = (by: GroupActor) => (by.operation ? { operation: by.operation } : {});

/** The journal of users whose role a membership change of this group moved. */
const roleJournal = (by: GroupActor, role: { id: string; name: string }): RoleJournal => ({
  actor: by.actor,
  source: by.source,
  details: { reason: 'group_membership', groupId: role.id, groupName: role.name, ...operationOf(by) },
});

/** The group's own audit event; its members are counted, and the first ids listed. */
function groupEvent(
  id: string,
  by: GroupActor,
  role: GroupRole,
  action: string,
  changes: Record<string, unknown> | null,
  members: MemberCounts,
): AuditRow {
  const operation = operationOf(by);
  const details =
    members.added + members.removed > 0
      ? {
          ...operation,
          membersAdded: members.added,
          membersRemoved: members.removed,
          ...(members.added > 0 ? { addedUserIds: members.addedSample } : {}),
          ...(members.removed > 0 ? { removedUserIds: members.removedSample } : {}),
        }
      : by.operation
        ? operation
        : null;
  return { id, action, user_id: null, target_type: 'group', target_id: role.id, changes, details };
}

const effect = (m: MemberCounts): MemberEffect => ({
  added: m.added,
  removed: m.removed,
  roleChanges: m.roleChanges,
});

const NONE: MemberCounts = { added: 0, removed: 0, addedSample: [], removedSample: [], roleChanges: 0 };

/** Creates a group: a new role (rank 0) with its members. */
export async function createGroup(
  db: Db,
  workspaceId: string,
  input: { name: string; externalId?: string | null; members?: string[] },
  by: GroupActor,
  inTransaction?: GroupCommitHook,
): Promise<GroupOutcome> {
  const checked = checkName(input.name);
  if ('code' in checked) return failure(checked);
  return transact(db, async (tx) => {
    const eventId = newId();
    const role = await repo.insertGroupRole(tx, workspaceId, {
      id: newId(),
      name: checked.name,
      name_key: checked.key,
      rank: 0,
      external_id: input.externalId ?? null,
    });
    if (!role) return failure(taken(checked.name));
    const members = await applyMembers(tx, workspaceId, role, { add: input.members ?? [] }, by);
    if ('code' in members) throw new Rollback(members);
    const created = { name: { from: null, to: role.name } };
    await insertAuditEvents(tx, workspaceId, by.actor, by.source, [
      groupEvent(eventId, by, role, 'group.created', created, members),
    ]);
    await inTransaction?.(tx, role);
    return { ok: true as const, role, ...effect(members) };
  }).catch(rolledBack);
}

/** Renames a group, sets its externalId and changes its members, as one write. */
export async function updateGroup(
  db: Db,
  workspaceId: string,
  roleId: string,
  write: GroupWrite,
  by: GroupActor,
  inTransaction?: GroupCommitHook,
): Promise<GroupOutcome> {
  const checked = write.name !== undefined ? checkName(write.name) : undefined;
  if (checked && 'code' in checked) return failure(checked);
  return transact(db, async (tx) => {
    const eventId = newId();
    const role = await repo.lockRole(tx, workspaceId, roleId);
    if (!role) return failure({ code: 'not_found', message: `Group ${roleId} not found.` });
    if (write.expectedVersion !== undefined && write.expectedVersion !== role.version) {
      return failure({
        code: 'precondition_failed',
        message: `The group is at version ${role.version}, not ${write.expectedVersion}; read it again.`,
      });
    }
    const rename = checked && checked.name !== role.name ? checked : undefined;
    const externalChanged = write.externalId !== undefined && write.externalId !== role.external_id;
    // The name first: a name already taken fails the write before any member is touched.
    let next = role;
    if (rename || externalChanged) {
      try {
        next = await repo.updateGroupRole(tx, workspaceId, role.id, {
          ...(rename ? { name: rename.name, name_key: rename.key } : {}),
          ...(externalChanged ? { external_id: write.externalId } : {}),
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505' && rename) throw new Rollback(taken(rename.name));
        throw error;
      }
    }
    const members = write.members ? await applyMembers(tx, workspaceId, next, write.members, by) : NONE;
    if ('code' in members) throw new Rollback(members);
    const moved = members.added + members.removed > 0;
    if (moved && next === role) next = await repo.updateGroupRole(tx, workspaceId, role.id, {});
    if (next !== role) {
      const changes: Record<string, unknown> = {};
      if (rename) changes.name = { from: role.name, to: next.name };
      if (externalChanged) changes.external_id = { from: role.external_id, to: next.external_id };
      await insertAuditEvents(tx, workspaceId, by.actor, by.source, [
        groupEvent(
          eventId,
          by,
          next,
          'group.updated',
          Object.keys(changes).length > 0 ? changes : null,
          members,
        ),
      ]);
    }
    await inTransaction?.(tx, next);
    return { ok: true as const, role: next, ...effect(members) };
  }).catch(rolledBack);
}

/**
 * Deletes a group and its role. Its members fall back (their next group role, else their direct role);
 * users whose direct role it was get the default role. The default role's group cannot be deleted.
 */
export async function deleteGroup(
  db: Db,
  workspaceId: string,
  roleId: string,
  by: GroupActor & { expectedVersion?: number },
  inTransaction?: GroupCommitHook,
): Promise<GroupOutcome> {
  return transact(db, async (tx) => {
    const eventId = newId();
    const role = await repo.lockRole(tx, workspaceId, roleId);
    if (!role) return failure({ code: 'not_found', message: `Group ${roleId} not found.` });
    const fallback = await repo.defaultRoleId(tx, workspaceId);
    if (!fallback || fallback === role.id) {
      return failure({
        code: 'default_role',
        message: `'${role.name}' is the workspace's default role, so its group cannot be deleted; make another role the default first.`,
      });
    }
    if (by.expectedVersion !== undefined && by.expectedVersion !== role.version) {
      return failure({
        code: 'precondition_failed',
        message: `The group is at version ${role.version}, not ${by.expectedVersion}; read it again.`,
      });
    }
    await memberships.lockUsers(tx, workspaceId, { membersOf: role.id, holdersOf: role.id });
    await repo.reassignDirectRole(tx, workspaceId, role.id, fallback);
    const members = await memberships.dissolveGroup(tx, workspaceId, role.id, roleJournal(by, role));
    await repo.moveRemainingHolders(tx, workspaceId, role.id, fallback);
    await repo.deleteRole(tx, workspaceId, role.id);
    const deleted = { name: { from: role.name, to: null } };
    await insertAuditEvents(tx, workspaceId, by.actor, by.source, [
      groupEvent(eventId, by, role, 'group.deleted', deleted, members),
    ]);
    await inTransaction?.(tx, role);
    return { ok: true as const, role, ...effect(members) };
  }).catch(rolledBack);
}

/**
 * After a role's rank changes, its members' effective roles follow (the caller's transaction); returns
 * how many moved.
 */
export async function recomputeRoleMembers(
  tx: DbOrTx,
  workspaceId: string,
  roleId: string,
  by: GroupActor,
): Promise<number> {
  await memberships.lockUsers(tx, workspaceId, { membersOf: roleId });
  return memberships.resettleMembers(tx, workspaceId, roleId, {
    actor: by.actor,
    source: by.source,
    details: { reason: 'role_rank', roleId },
  });
}

/** A failure found mid-transaction: thrown to roll back, turned back into an outcome. */
class Rollback extends Error {
  constructor(readonly failure: GroupFailure) {
    super(failure.message);
  }
}

function rolledBack(error: unknown): GroupOutcome {
  if (error instanceof Rollback) return failure(error.failure);
  throw error;
}
