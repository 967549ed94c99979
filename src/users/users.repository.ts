import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
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

const select = sql`
  select u.id, u.user_name, u.email, u.given_name, u.family_name, u.display_name, u.role_id, r.name as role_name,
         u.location_id, l.name as location_name, u.status, u.external_id, u.managed_by, u.created_at, u.updated_at,
         u.version, i.status as invitation_status, i.sent_at as invitation_sent_at, i.expires_at as invitation_expires_at
  from users u
  join roles r on r.workspace_id = u.workspace_id and r.id = u.role_id
  left join locations l on l.workspace_id = u.workspace_id and l.id = u.location_id
  left join lateral (
    select status, sent_at, expires_at from invitations
    where workspace_id = u.workspace_id and user_id = u.id order by id desc limit 1
  ) i on true`;

export async function findUserView(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<UserView | undefined> {
  const { rows } = await sql<UserView>`${select}
    where u.workspace_id = ${workspaceId} and u.id = ${id} and (u.deleted_at is null) is true`.execute(db);
  return rows[0];
}

export interface UserFilters {
  status?: UserStatus;
  roleKey?: string;
  locationKey?: string;
  q?: string;
  afterId?: string;
}

const likeEscape = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Users in creation order (UUIDv7 ids), keyset-paged by id. */
export async function listUserViews(
  db: DbOrTx,
  workspaceId: string,
  f: UserFilters,
  limit: number,
): Promise<UserView[]> {
  const conditions = [sql`u.workspace_id = ${workspaceId}`, sql`(u.deleted_at is null) is true`];
  if (f.status) conditions.push(sql`u.status = ${f.status}`);
  if (f.roleKey !== undefined) conditions.push(sql`r.name_key = ${f.roleKey}`);
  if (f.locationKey !== undefined) conditions.push(sql`l.name_key = ${f.locationKey}`);
  if (f.q) {
    const pattern = `%${likeEscape(f.q)}%`;
    conditions.push(
      sql`(u.email_key like ${pattern.toLowerCase()} or u.user_name_key like ${pattern.toLowerCase()}
           or coalesce(u.display_name, '') ilike ${pattern}
           or (coalesce(u.given_name, '') || ' ' || coalesce(u.family_name, '')) ilike ${pattern})`,
    );
  }
  if (f.afterId) conditions.push(sql`u.id > ${f.afterId}`);
  const { rows } = await sql<UserView>`${select}
    where ${sql.join(conditions, sql` and `)}
    order by u.id limit ${limit}`.execute(db);
  return rows;
}

/** The user's status and whether it ever accepted, for invitation resends. */
export function findUserForInvite(db: DbOrTx, workspaceId: string, id: string) {
  return db
    .selectFrom('users')
    .select(['id', 'status', 'version'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where(sql<boolean>`(deleted_at is null) is true`)
    .executeTakeFirst();
}
