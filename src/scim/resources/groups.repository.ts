import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { PREPARED, type DbOrTx } from '../../db/index.js';

/** A group as SCIM reads it: a role. */
export interface ScimGroupRow {
  id: string;
  name: string;
  external_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A membership as a page of a group's members reads it: `live` is false for a user deleted since. */
export interface ScimMemberRow {
  id: string;
  live: boolean;
  display: string;
}

const columns = sql`g.id, g.name, g.external_id, g.version, g.created_at, g.updated_at`;

export async function findScimGroup(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<ScimGroupRow | undefined> {
  const { rows } = await sql<ScimGroupRow>`${PREPARED}select ${columns} from roles g
    where g.workspace_id = ${workspaceId} and g.id = ${id}`.execute(db);
  return rows[0];
}

/** One page of the workspace's groups matching the filter (over `roles g`). */
export async function listScimGroups(
  db: DbOrTx,
  workspaceId: string,
  filter: RawBuilder<SqlBool> | undefined,
  offset: number,
  limit: number,
  orderBy: RawBuilder<unknown>,
): Promise<{ rows: ScimGroupRow[]; total: number }> {
  const where = sql`g.workspace_id = ${workspaceId} ${filter ? sql`and (${filter})` : sql``}`;
  const page =
    limit > 0
      ? await sql<ScimGroupRow>`select ${columns} from roles g where ${where}
          order by ${orderBy} offset ${offset} limit ${limit}`.execute(db)
      : { rows: [] as ScimGroupRow[] };
  if (offset === 0 && page.rows.length < limit) return { rows: page.rows, total: page.rows.length };
  const count = await sql<{ n: number }>`select count(*)::int as n from roles g where ${where}`.execute(db);
  return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
}

/**
 * One page of a group's members in user id order, after `after` (keyset over the primary key), with the
 * group's version in the same snapshot (undefined once the group is deleted). Paged over the
 * memberships, not the users, so that a page holding a deleted user is not taken for the last.
 */
export async function memberPage(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  after: string | undefined,
  limit: number,
): Promise<{ version: number | undefined; members: ScimMemberRow[] }> {
  const { rows } = await sql<{ version: number; id: string | null; live: boolean; display: string }>`
    select r.version, m.user_id as id, u.id is not null as live,
           coalesce(u.display_name, u.user_name) as display
    from roles r
    left join lateral (
      select g.user_id from group_memberships g
      where g.workspace_id = r.workspace_id and g.role_id = r.id
        ${after === undefined ? sql`` : sql`and g.user_id > ${after}`}
      order by g.user_id
      limit ${limit}) m on true
    left join users u on u.workspace_id = r.workspace_id and u.id = m.user_id and (u.deleted_at is null) is true
    where r.workspace_id = ${workspaceId} and r.id = ${roleId}
    order by m.user_id`.execute(db);
  return {
    version: rows[0]?.version,
    members: rows.flatMap((r) => (r.id === null ? [] : [{ id: r.id, live: r.live, display: r.display }])),
  };
}
