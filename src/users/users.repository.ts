import { sql, type RawBuilder } from 'kysely';
import type { Db, DbOrTx } from '../db/index.js';
import type { UserStatus } from '../db/tables.js';

export interface UserView {
  id: string;
  user_name: string;
  email: string;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  role_id: string;
  role_name: string;
  location_id: string | null;
  location_name: string | null;
  status: UserStatus;
  external_id: string | null;
  managed_by: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
  invitation_status: 'pending' | 'accepted' | 'revoked' | null;
  invitation_sent_at: Date | null;
  invitation_expires_at: Date | null;
}

/** The user view over `source` (the users table, or a page of it), aliased `u`. */
const selectFrom = (source: RawBuilder<unknown>) => sql`
  select u.id, u.user_name, u.email, u.given_name, u.family_name, u.display_name, u.role_id, r.name as role_name,
         u.location_id, l.name as location_name, u.status, u.external_id, u.managed_by, u.created_at, u.updated_at,
         u.version, i.status as invitation_status, i.sent_at as invitation_sent_at, i.expires_at as invitation_expires_at
  from ${source} u
  join roles r on r.workspace_id = u.workspace_id and r.id = u.role_id
  left join locations l on l.workspace_id = u.workspace_id and l.id = u.location_id
  left join lateral (
    select status, sent_at, expires_at from invitations
    where workspace_id = u.workspace_id and user_id = u.id order by id desc limit 1
  ) i on true`;
const select = selectFrom(sql`users`);

export async function findUserView(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<UserView | undefined> {
  const { rows } = await sql<UserView>`${select}
    where u.workspace_id = ${workspaceId} and u.id = ${id} and (u.deleted_at is null) is true`.execute(db);
  return rows[0];
}

/**
 * The views of these users, deleted ones included (as their row was last stored): what the events
 * feed shows of the users a page names, in one query.
 */
export async function findUserViewsAnyState(
  db: DbOrTx,
  workspaceId: string,
  ids: string[],
): Promise<UserView[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<UserView>`${select}
    where u.workspace_id = ${workspaceId} and u.id = any(${ids}::uuid[])`.execute(db);
  return rows;
}

export interface UserFilters {
  status?: UserStatus;
  roleKey?: string;
  locationKey?: string;
  q?: string;
  afterId?: string;
}

const likeEscape = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Users in creation order (UUIDv7 ids), keyset-paged by id. The page of users is chosen first, walking
 * the primary key in id order, and only its rows are joined to roles, locations and invitations.
 * Bitmap scans are off for the statement: without statistics (right after a bulk import) the planner
 * would otherwise read every user of the workspace through a bitmap and sort them to keep 50.
 */
export async function listUserViews(
  db: Db,
  workspaceId: string,
  f: UserFilters,
  limit: number,
): Promise<UserView[]> {
  const conditions = [sql`u.workspace_id = ${workspaceId}`, sql`(u.deleted_at is null) is true`];
  if (f.status) conditions.push(sql`u.status = ${f.status}`);
  if (f.roleKey !== undefined)
    conditions.push(sql`exists (select 1 from roles fr where fr.workspace_id = u.workspace_id
      and fr.id = u.role_id and fr.name_key = ${f.roleKey})`);
  if (f.locationKey !== undefined)
    conditions.push(sql`exists (select 1 from locations fl where fl.workspace_id = u.workspace_id
      and fl.id = u.location_id and fl.name_key = ${f.locationKey})`);
  if (f.q) {
    const pattern = `%${likeEscape(f.q)}%`;
    conditions.push(
      sql`(u.email_key like ${pattern.toLowerCase()} or u.user_name_key like ${pattern.toLowerCase()}
           or coalesce(u.display_name, '') ilike ${pattern}
           or (coalesce(u.given_name, '') || ' ' || coalesce(u.family_name, '')) ilike ${pattern})`,
    );
  }
  if (f.afterId) conditions.push(sql`u.id > ${f.afterId}`);
  return db.transaction().execute(async (tx) => {
    await sql`set local enable_bitmapscan = off`.execute(tx);
    const { rows } = await sql<UserView>`${selectFrom(
      sql`(select * from users u where ${sql.join(conditions, sql` and `)} order by u.id limit ${limit})`,
    )}
      order by u.id`.execute(tx);
    return rows;
  });
}

/** True when `emailKey` is the e-mail of an active (not invited, deactivated or deleted) user of the workspace. */
export async function isActiveMember(db: DbOrTx, workspaceId: string, emailKey: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('email_key', '=', emailKey)
    .where('deleted_at', 'is', null)
    .where('status', '=', 'active')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
