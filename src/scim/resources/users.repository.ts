import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { PREPARED, type DbOrTx } from '../../db/index.js';
import { findSettings } from '../../provisioning/settings.repository.js';
import type { ScimUserRow } from './user-mapper.js';

const select = sql`
  select u.id, u.user_name, u.email, u.given_name, u.family_name, u.display_name, u.external_id, u.status,
         u.emails, u.attributes, r.name as role_name, l.name as location_name, u.created_at, u.updated_at, u.version,
         coalesce((select jsonb_agg(jsonb_build_object('value', gr.id, 'display', gr.name) order by gr.name_key, gr.id)
                   from group_memberships gm
                   join roles gr on gr.workspace_id = gm.workspace_id and gr.id = gm.role_id
                   where gm.workspace_id = u.workspace_id and gm.user_id = u.id), '[]'::jsonb) as groups
  from users u
  join roles r on r.workspace_id = u.workspace_id and r.id = u.role_id
  left join locations l on l.workspace_id = u.workspace_id and l.id = u.location_id`;

export async function findScimUser(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<ScimUserRow | undefined> {
  const { rows } = await sql<ScimUserRow>`${PREPARED}${select}
    where u.workspace_id = ${workspaceId} and u.id = ${id} and (u.deleted_at is null) is true`.execute(db);
  return rows[0];
}

/** One page of live users matching the filter (users u, roles r, locations l), in creation order. */
export async function listScimUsers(
  db: DbOrTx,
  workspaceId: string,
  filter: RawBuilder<SqlBool> | undefined,
  offset: number,
  limit: number,
  orderBy: RawBuilder<unknown> = sql`u.id`,
): Promise<{ rows: ScimUserRow[]; total: number }> {
  const where = sql`u.workspace_id = ${workspaceId} and u.deleted_at is null ${filter ? sql`and (${filter})` : sql``}`;
  const page =
    limit > 0
      ? await sql<ScimUserRow>`${PREPARED}${select} where ${where} order by ${orderBy} offset ${offset} limit ${limit}`.execute(
          db,
        )
      : { rows: [] as ScimUserRow[] };
  // A first page that is not full is the whole result (an identity provider's `userName eq` lookup):
  // no count needed.
  if (offset === 0 && page.rows.length < limit) return { rows: page.rows, total: page.rows.length };
  const count = await sql<{
    n: number;
  }>`${PREPARED}select count(*)::int as n from users u where ${where}`.execute(db);
  return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
}

/** The workspace settings every SCIM write reads. */
export interface ScimWriteSettings {
  sendInvites: boolean;
  createsLocations: boolean;
}

export async function scimWriteSettings(db: DbOrTx, workspaceId: string): Promise<ScimWriteSettings> {
  const row = await findSettings(db, workspaceId);
  return {
    sendInvites: row?.scim_send_invites ?? false,
    createsLocations: row?.scim_creates_locations ?? true,
  };
}

/** Live users of the workspace among `ids`, in one query. */
export async function findScimUsers(db: DbOrTx, workspaceId: string, ids: string[]): Promise<ScimUserRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ScimUserRow>`${select}
    where u.workspace_id = ${workspaceId} and u.id = any(${ids}::uuid[]) and (u.deleted_at is null) is true`.execute(
    db,
  );
  return rows;
}
