import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { UserStatus } from '../db/tables.js';

/** A user as the engine reads and writes it (snake_case, as stored). */
export interface UserState {
  id: string;
  user_name: string;
  user_name_key: string;
  email: string | null;
  email_key: string | null;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  direct_role_id: string;
  role_id: string;
  location_id: string | null;
  external_id: string | null;
  managed_by: 'scim' | null;
  status: UserStatus;
  emails: unknown[];
  attributes: Record<string, unknown>;
  activated_at: Date | null;
  version: number;
}

export interface ExistingUser extends UserState {
  has_groups: boolean;
}

/**
 * Live users of the workspace matching any id, e-mail key, userName key or externalId, locked in id
 * order (FOR UPDATE) unless this is a dry run.
 *
 * One probe of the matching unique index per key (a LATERAL subquery fenced by OFFSET 0 is never
 * flattened into a join), then one primary-key probe per match, in id order, locking as it goes. The
 * plan must not depend on statistics, which lag far behind a bulk import: with none, the planner takes
 * `deleted_at is null` for rare and would rather walk every user of the workspace through a partial
 * index than probe an OR of four `= any()` conditions. Not LIMIT 1 as the fence: it makes the planner
 * expect an early match from such a walk and prefer it to the probe.
 */
export async function lockExisting(
  db: DbOrTx,
  workspaceId: string,
  keys: { ids: string[]; emailKeys: string[]; userNameKeys: string[]; externalIds: string[] },
  lock: boolean,
): Promise<ExistingUser[]> {
  const probe = (column: string, values: string[], type: string) => {
    const c = sql.ref(column);
    // The primary key is not partial: an equality probe wins. The other keys' unique indexes are partial
    // (deleted_at is null), and without statistics each looks nearly empty: a walk of one by workspace_id
    // then costs the same as a probe of the other, and may be chosen. A range on the key, ordered by it,
    // gives the matching index the order the query asks for, which breaks the tie its way.
    const where = column === 'id' ? sql`${c} = k.v` : sql`${c} >= k.v and ${c} <= k.v`;
    return sql`
      select p.id from unnest(${values}::${sql.raw(type)}[]) as k(v), lateral (
        select id from users where workspace_id = ${workspaceId} and ${where} and deleted_at is null
        order by ${c} offset 0) p`;
  };
  const { rows } = await sql<ExistingUser>`
    with found as (
      ${probe('id', keys.ids, 'uuid')}
      union ${probe('email_key', keys.emailKeys, 'text')}
      union ${probe('user_name_key', keys.userNameKeys, 'text')}
      union ${probe('external_id', keys.externalIds, 'text')}
    )
    select l.* from (select id from found order by id) f, lateral (
      select u.id, u.user_name, u.user_name_key, u.email, u.email_key, u.given_name, u.family_name,
             u.display_name, u.direct_role_id, u.role_id, u.location_id, u.external_id, u.managed_by,
             u.status, u.emails, u.attributes, u.activated_at, u.version,
             exists (select 1 from group_memberships g where g.workspace_id = u.workspace_id and g.user_id = u.id) as has_groups
      from users u
      where u.workspace_id = ${workspaceId} and u.id = f.id and u.deleted_at is null
      offset 0
      ${lock ? sql`for update of u` : sql``}) l
    order by l.id`.execute(db);
  return rows;
}

/**
 * Rows travel to Postgres as one JSON text read by json_to_recordset, not as an array per column: one
 * native JSON.stringify instead of the driver escaping every element of nineteen arrays in JavaScript
 * (a third of the worker's query time in a 100,000-row import).
 */
const records = (rows: readonly object[]) => sql`${JSON.stringify(rows)}::json`;

/** The columns of a user state in a json_to_recordset row definition. */
const USER_RECORD = sql.raw(`id uuid, user_name text, user_name_key text, email text, email_key text,
  given_name text, family_name text, display_name text, direct_role_id uuid, role_id uuid, location_id uuid,
  external_id text, managed_by text, status text, emails jsonb, attributes jsonb, activated_at timestamptz,
  version int`);

/** Inserts new users in one statement; returns the ids that were inserted (a concurrent writer may win). */
export async function insertUsers(db: DbOrTx, workspaceId: string, users: UserState[]): Promise<Set<string>> {
  if (users.length === 0) return new Set();
  const { rows } = await sql<{ id: string }>`
    insert into users (workspace_id, id, user_name, user_name_key, email, email_key, given_name, family_name,
                       display_name, direct_role_id, role_id, location_id, external_id, managed_by, status,
                       emails, attributes, activated_at, version)
    select ${workspaceId}::uuid, v.id, v.user_name, v.user_name_key, v.email, v.email_key, v.given_name,
           v.family_name, v.display_name, v.direct_role_id, v.role_id, v.location_id, v.external_id, v.managed_by,
           v.status, coalesce(v.emails, '[]'), coalesce(v.attributes, '{}'), v.activated_at, v.version
    from json_to_recordset(${records(users)}) as v(${USER_RECORD})
    on conflict do nothing
    returning id`.execute(db);
  return new Set(rows.map((r) => r.id));
}

/** Writes the full new state of existing users in one statement; version is the value to store. */
export async function updateUsers(db: DbOrTx, workspaceId: string, users: UserState[]): Promise<void> {
  if (users.length === 0) return;
  await sql`
    update users u set
      user_name = v.user_name, user_name_key = v.user_name_key, email = v.email, email_key = v.email_key,
      given_name = v.given_name, family_name = v.family_name, display_name = v.display_name,
      direct_role_id = v.direct_role_id, role_id = v.role_id, location_id = v.location_id,
      external_id = v.external_id, managed_by = v.managed_by, status = v.status,
      emails = coalesce(v.emails, '[]'), attributes = coalesce(v.attributes, '{}'),
      activated_at = v.activated_at, version = v.version, updated_at = now()
    from json_to_recordset(${records(users)}) as v(${USER_RECORD})
    where u.workspace_id = ${workspaceId} and u.id = v.id`.execute(db);
}

/** Soft-deletes users: hidden from reads, kept for the audit trail, their e-mail and userName free again. */
export async function softDeleteUsers(db: DbOrTx, workspaceId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update users set deleted_at = now(), updated_at = now(), version = version + 1
    where workspace_id = ${workspaceId} and id = any(${ids}::uuid[]) and deleted_at is null`.execute(db);
}

/** Revokes the open invitations of these users; an e-mail not yet claimed for sending is dropped. */
export async function revokeOpenInvitations(
  db: DbOrTx,
  workspaceId: string,
  userIds: string[],
): Promise<void> {
  if (userIds.length === 0) return;
  await sql`
    update invitations set status = 'revoked', revoked_at = now(),
      send_state = case when send_state = 'queued' then 'not_sent' else send_state end
    where workspace_id = ${workspaceId} and user_id = any(${userIds}::uuid[]) and status = 'pending'`.execute(
    db,
  );
}

export interface NewInvitation {
  id: string;
  user_id: string;
}

/**
 * Inserts invitations as queued outbox entries, in the caller's transaction, all expiring at
 * `expiresAt`. Nothing of their token is stored (see invitation-tokens.ts).
 */
export async function insertInvitations(
  db: DbOrTx,
  workspaceId: string,
  invitations: NewInvitation[],
  expiresAt: Date,
  createdBy: string,
): Promise<void> {
  if (invitations.length === 0) return;
  await sql`
    insert into invitations (workspace_id, id, user_id, expires_at, created_by)
    select ${workspaceId}::uuid, v.id, v.user_id, ${expiresAt}::timestamptz, ${createdBy}
    from unnest(${invitations.map((i) => i.id)}::uuid[], ${invitations.map((i) => i.user_id)}::uuid[])
      as v(id, user_id)`.execute(db);
}

export interface AuditRow {
  id: string;
  action: string;
  user_id: string | null;
  target_type: string;
  target_id: string | null;
  changes: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
}

export async function insertAuditEvents(
  db: DbOrTx,
  workspaceId: string,
  actor: string,
  source: string,
  events: AuditRow[],
): Promise<void> {
  if (events.length === 0) return;
  await sql`
    insert into audit_events (workspace_id, id, actor, source, action, user_id, target_type, target_id, changes, details)
    select ${workspaceId}::uuid, v.id, ${actor}, ${source}, v.action, v.user_id, v.target_type, v.target_id, v.changes, v.details
    from json_to_recordset(${records(events)})
      as v(id uuid, action text, user_id uuid, target_type text, target_id uuid, changes jsonb, details jsonb)`.execute(
    db,
  );
}
