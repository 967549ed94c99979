import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import { findSettings } from './settings.repository.js';

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
  return (await findSettings(db, workspaceId))?.default_role_id;
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
