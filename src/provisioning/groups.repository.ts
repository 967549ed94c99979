import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

/** A role as a group write sees it. */
export interface GroupRole {
  id: string;
  name: string;
  name_key: string;
  rank: number;
  version: number;
  external_id: string | null;
}

/**
 * Locks the role for a group write. FOR NO KEY UPDATE, not FOR UPDATE: user writes take a KEY SHARE
 * lock on the role they point at (the foreign key), which must not wait for a membership change.
 */
export async function lockRole(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
): Promise<GroupRole | undefined> {
  const { rows } = await sql<GroupRole>`
    select id, name, name_key, rank, version, external_id from roles
    where workspace_id = ${workspaceId} and id = ${roleId}
    for no key update`.execute(db);
  return rows[0];
}

/**
 * Locks, in one pass in id order (as the engine does, so the two never deadlock), the live users among
 * `ids`, the live members of `membersOf`, and every user (deleted ones too: the foreign keys) whose
 * direct or effective role is `holdersOf`. Returns those of `ids` that are not live users of the
 * workspace: the locked set itself stays in Postgres, since the members of a group can be hundreds of
 * thousands.
 */
export async function lockUsers(
  db: DbOrTx,
  workspaceId: string,
  who: { ids?: string[]; membersOf?: string; holdersOf?: string },
): Promise<string[]> {
  const ids = who.ids ?? [];
  // MATERIALIZED and counted whole: a FOR UPDATE CTE is otherwise read (and locked) only as far as the
  // query around it reads it.
  const { rows } = await sql<{ locked: number; absent: string[] }>`
    with locked as materialized (
      select u.id, u.deleted_at is null as live from users u
      where u.workspace_id = ${workspaceId}
        and (((u.deleted_at is null) is true and (u.id = any(${ids}::uuid[])
               ${
                 who.membersOf
                   ? sql`or u.id in (select g.user_id from group_memberships g
                                     where g.workspace_id = ${workspaceId} and g.role_id = ${who.membersOf})`
                   : sql``
               }))
             ${who.holdersOf ? sql`or u.direct_role_id = ${who.holdersOf} or u.role_id = ${who.holdersOf}` : sql``})
      order by u.id
      for no key update of u)
    select (select count(*) from locked)::int as locked,
           array(select v.id from unnest(${ids}::uuid[]) as v(id)
                 where not exists (select 1 from locked l where l.id = v.id and l.live)) as absent`.execute(
    db,
  );
  return rows[0]?.absent ?? [];
}

/** Who should hear of a membership change's effect on users' roles: one `user.role_changed` each. */
export interface RoleJournal {
  actor: string;
  source: string;
  details: Record<string, unknown>;
}

/** What a membership statement did; the samples hold at most SAMPLE ids each, in id order. */
export interface MemberCounts {
  added: number;
  removed: number;
  addedSample: string[];
  removedSample: string[];
  roleChanges: number;
}

const SAMPLE = 1000;

/**
 * The end of a membership statement, after CTEs `gone (user_id)` and `added (user_id)`: `touched (id,
 * member)` names the users whose role may move and whether they are in the group afterwards. Their
 * effective role is computed from the statement's snapshot, which does not see its own changes: the
 * group's memberships are therefore left out and `member` stands for them. Only users whose role moves
 * are written (a new version), each with its audit event, in the same statement.
 */
function settle(workspaceId: string, roleId: string, journal: RoleJournal) {
  return sql`
    next as (
      select x.id, x.role_id as from_role_id,
             coalesce((select r.id from roles r
                       where r.workspace_id = ${workspaceId}
                         and ((t.member and r.id = ${roleId})
                              or (r.id <> ${roleId} and r.id in (
                                    select g.role_id from group_memberships g
                                    where g.workspace_id = ${workspaceId} and g.user_id = x.id)))
                       order by r.rank desc, r.name_key, r.id limit 1),
                      x.direct_role_id) as to_role_id
      from touched t
      join users x on x.workspace_id = ${workspaceId} and x.id = t.id
      where (x.deleted_at is null) is true),
    changed as (
      update users u set role_id = n.to_role_id, version = u.version + 1, updated_at = now()
      from next n
      where u.workspace_id = ${workspaceId} and u.id = n.id and u.role_id <> n.to_role_id
      returning u.id, n.from_role_id, n.to_role_id),
    journal as (
      insert into audit_events (workspace_id, actor, source, action, user_id, target_type, target_id, changes, details)
      select ${workspaceId}::uuid, ${journal.actor}, ${journal.source}, 'user.role_changed', c.id, 'user', c.id,
             jsonb_build_object('role_id', jsonb_build_object('from', c.from_role_id, 'to', c.to_role_id)),
             ${JSON.stringify(journal.details)}::jsonb
      from changed c)
    select (select count(*) from added)::int as added,
           (select count(*) from gone)::int as removed,
           array(select user_id from added order by user_id limit ${SAMPLE}) as "addedSample",
           array(select user_id from gone order by user_id limit ${SAMPLE}) as "removedSample",
           (select count(*) from changed)::int as "roleChanges"`;
}

const nothing: MemberCounts = { added: 0, removed: 0, addedSample: [], removedSample: [], roleChanges: 0 };

/**
 * Changes a group's members in one statement: `set` makes them exactly these users, else `add` and
 * `remove` (disjoint) change them. Then the effective role of everyone added or removed follows, with
 * its audit event. The callers hold the role's lock and the users' (lockUsers); the ids to add are live
 * users. Nothing scales with the group in memory: only counts and samples come back.
 */
export async function changeMembers(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  change: { set: string[] } | { add: string[]; remove: string[] },
  journal: RoleJournal,
): Promise<MemberCounts> {
  const set = 'set' in change;
  const add = set ? change.set : change.add;
  const remove = set ? [] : change.remove;
  if (!set && add.length === 0 && remove.length === 0) return nothing;
  const { rows } = await sql<MemberCounts>`
    with gone as (
      delete from group_memberships
      where workspace_id = ${workspaceId} and role_id = ${roleId}
        and ${set ? sql`not (user_id = any(${add}::uuid[]))` : sql`user_id = any(${remove}::uuid[])`}
      returning user_id),
    added as (
      insert into group_memberships (workspace_id, role_id, user_id)
      select ${workspaceId}::uuid, ${roleId}::uuid, v.id from unnest(${add}::uuid[]) as v(id) order by v.id
      on conflict do nothing
      returning user_id),
    touched as (
      select user_id as id, false as member from gone
      union all
      select user_id, true from added),
    ${settle(workspaceId, roleId, journal)}`.execute(db);
  return rows[0]!;
}

/**
 * A group about to be deleted loses every member; its members and the users whose effective role it is
 * (they held it directly, and reassignDirectRole has already given them another) get their role again.
 */
export async function dissolveGroup(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  journal: RoleJournal,
): Promise<MemberCounts> {
  const { rows } = await sql<MemberCounts>`
    with gone as (
      delete from group_memberships
      where workspace_id = ${workspaceId} and role_id = ${roleId}
      returning user_id),
    added as (select null::uuid as user_id where false),
    touched as (
      select user_id as id, false as member from gone
      union
      select u.id, false from users u
      where u.workspace_id = ${workspaceId} and u.role_id = ${roleId} and (u.deleted_at is null) is true),
    ${settle(workspaceId, roleId, journal)}`.execute(db);
  return rows[0]!;
}

/** After a role's rank changed: its members' effective roles follow. Returns how many moved. */
export async function resettleMembers(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  journal: RoleJournal,
): Promise<number> {
  const { rows } = await sql<MemberCounts>`
    with gone as (select null::uuid as user_id where false),
    added as (select null::uuid as user_id where false),
    touched as (
      select g.user_id as id, true as member from group_memberships g
      where g.workspace_id = ${workspaceId} and g.role_id = ${roleId}),
    ${settle(workspaceId, roleId, journal)}`.execute(db);
  return rows[0]?.roleChanges ?? 0;
}

export interface RoleChange {
  id: string;
  from_role_id: string;
  to_role_id: string;
}

/**
 * Sets each user's effective role from their groups: the highest-ranked role among them (ties: the
 * name, then the id, so the choice is predictable), else the role set directly. Only users whose
 * role changes are written (a new version); returns those changes. The callers hold the users' locks.
 */
export async function recomputeEffectiveRoles(
  db: DbOrTx,
  workspaceId: string,
  userIds: string[],
): Promise<RoleChange[]> {
  if (userIds.length === 0) return [];
  const { rows } = await sql<RoleChange>`
    update users u set role_id = e.to_role_id, version = u.version + 1, updated_at = now()
    from (
      select x.id, x.role_id as from_role_id,
             coalesce((select g.role_id from group_memberships g
                       join roles r on r.workspace_id = g.workspace_id and r.id = g.role_id
                       where g.workspace_id = x.workspace_id and g.user_id = x.id
                       order by r.rank desc, r.name_key, r.id limit 1),
                      x.direct_role_id) as to_role_id
      from users x
      where x.workspace_id = ${workspaceId} and x.id = any(${userIds}::uuid[]) and (x.deleted_at is null) is true
    ) e
    where u.workspace_id = ${workspaceId} and u.id = e.id and u.role_id <> e.to_role_id
    returning u.id, e.from_role_id, e.to_role_id`.execute(db);
  return rows;
}

/** Users whose direct role is this one get `toRoleId` instead. */
export async function reassignDirectRole(
  db: DbOrTx,
  workspaceId: string,
  fromRoleId: string,
  toRoleId: string,
): Promise<void> {
  await sql`
    update users set direct_role_id = ${toRoleId}, updated_at = now()
    where workspace_id = ${workspaceId} and direct_role_id = ${fromRoleId}`.execute(db);
}

/** Moves users (deleted ones included) still pointing at a role about to go to `toRoleId`. */
export async function moveRemainingHolders(
  db: DbOrTx,
  workspaceId: string,
  fromRoleId: string,
  toRoleId: string,
): Promise<void> {
  await sql`
    update users set role_id = case when role_id = ${fromRoleId} then ${toRoleId}::uuid else role_id end,
                     direct_role_id = case when direct_role_id = ${fromRoleId} then ${toRoleId}::uuid else direct_role_id end
    where workspace_id = ${workspaceId} and (role_id = ${fromRoleId} or direct_role_id = ${fromRoleId})`.execute(
    db,
  );
}

export async function updateGroupRole(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  patch: { name?: string; name_key?: string; external_id?: string | null },
): Promise<GroupRole> {
  const { rows } = await sql<GroupRole>`
    update roles set
      name = coalesce(${patch.name ?? null}, name),
      name_key = coalesce(${patch.name_key ?? null}, name_key),
      external_id = ${patch.external_id === undefined ? sql`external_id` : sql`${patch.external_id}`},
      version = version + 1, updated_at = now()
    where workspace_id = ${workspaceId} and id = ${roleId}
    returning id, name, name_key, rank, version, external_id`.execute(db);
  return rows[0]!;
}

export async function insertGroupRole(
  db: DbOrTx,
  workspaceId: string,
  role: { id: string; name: string; name_key: string; rank: number; external_id: string | null },
): Promise<GroupRole | undefined> {
  const { rows } = await sql<GroupRole>`
    insert into roles (workspace_id, id, name, name_key, rank, external_id)
    values (${workspaceId}, ${role.id}, ${role.name}, ${role.name_key}, ${role.rank}, ${role.external_id})
    on conflict (workspace_id, name_key) do nothing
    returning id, name, name_key, rank, version, external_id`.execute(db);
  return rows[0];
}

export async function deleteRole(db: DbOrTx, workspaceId: string, roleId: string): Promise<void> {
  await sql`delete from roles where workspace_id = ${workspaceId} and id = ${roleId}`.execute(db);
}

export async function defaultRoleId(db: DbOrTx, workspaceId: string): Promise<string | undefined> {
  const { rows } = await sql<{ default_role_id: string }>`
    select default_role_id from workspace_settings where workspace_id = ${workspaceId}`.execute(db);
  return rows[0]?.default_role_id;
}

/** Deleted users leave their groups; each group they left gets a new version. */
export async function removeFromAllGroups(db: DbOrTx, workspaceId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await sql`
    with gone as (
      delete from group_memberships
      where workspace_id = ${workspaceId} and user_id = any(${userIds}::uuid[])
      returning role_id)
    update roles set version = version + 1, updated_at = now()
    where workspace_id = ${workspaceId} and id in (select role_id from gone)`.execute(db);
}
