import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { DbOrTx } from '../../db/index.js';

/** A group as SCIM reads it: a role. */
export interface ScimGroupRow {
  id: string;
  name: string;
  external_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface ScimMemberRow {
  role_id: string;
  id: string;
  display: string;
}

const columns = sql`g.id, g.name, g.external_id, g.version, g.created_at, g.updated_at`;

export async function findScimGroup(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<ScimGroupRow | undefined> {
  const { rows } = await sql<ScimGroupRow>`select ${columns} from roles g
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

/** The live members of these groups, in user id order within each group. */
export async function membersOf(
  db: DbOrTx,
  workspaceId: string,
  roleIds: string[],
): Promise<ScimMemberRow[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await sql<ScimMemberRow>`
    select m.role_id, u.id, coalesce(u.display_name, u.user_name) as display
    from group_memberships m
    join users u on u.workspace_id = m.workspace_id and u.id = m.user_id and (u.deleted_at is null) is true
    where m.workspace_id = ${workspaceId} and m.role_id = any(${roleIds}::uuid[])
    order by m.role_id, u.id`.execute(db);
  return rows;
}
