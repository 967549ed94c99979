import { sql, type RawBuilder } from 'kysely';
import type { DbOrTx } from '../db/index.js';

/*
 * The statements that lock and change a group's members, at any size: a group can have hundreds of
 * thousands of members, so the member list never comes back to JavaScript (counts and the first ids
 * do), and work over the whole group goes in slices of CHUNK, each its own short statement.
 */

/** Work over this many users or more runs with JIT off (see withoutJit). */
const JIT_OFF_FROM = 1_000;

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
  // A whole group's members, or many users: JIT off for the transaction (see withoutJit). A PATCH of a
  // few members skips the round trip: it runs under the group's lock, where every millisecond counts.
  if (who.membersOf || who.holdersOf || ids.length > JIT_OFF_FROM) await withoutJit(db);
  if (!who.membersOf && !who.holdersOf) return lockLive(db, workspaceId, ids);
  // Candidates first, then one join: `u.id = any(array) or u.id in (members)` is a scan of the array or
  // of the members for every user of the workspace, quadratic on a large group. MATERIALIZED and counted
  // whole: a FOR UPDATE CTE is otherwise read (and locked) only as far as the query around it reads it.
  const { rows } = await sql<{ locked: number; absent: string[] }>`
    with candidates as (
      select v.id, false as any_state from unnest(${ids}::uuid[]) as v(id)
      ${
        who.membersOf
          ? sql`union all
                select g.user_id, false from group_memberships g
                where g.workspace_id = ${workspaceId} and g.role_id = ${who.membersOf}`
          : sql``
      }
      ${
        who.holdersOf
          ? sql`union all
                select x.id, true from users x
                where x.workspace_id = ${workspaceId}
                  and (x.direct_role_id = ${who.holdersOf} or x.role_id = ${who.holdersOf})`
          : sql``
      }),
    locked as materialized (
      select u.id, u.deleted_at is null as live
      from users u
      join (select id, bool_or(any_state) as any_state from candidates group by id) c on c.id = u.id
      where u.workspace_id = ${workspaceId} and (c.any_state or (u.deleted_at is null) is true)
      order by u.id
      for no key update of u)
    select (select count(*) from locked)::int as locked,
           array(select v.id from unnest(${ids}::uuid[]) as v(id)
                 where not exists (select 1 from locked l where l.id = v.id and l.live)) as absent`.execute(
    db,
  );
  return rows[0]?.absent ?? [];
}

/**
 * lockUsers for named users only (a PATCH of a few members, an identity provider's usual push, under the
 * group's lock): one plain statement, half the time of the general one.
 */
async function lockLive(db: DbOrTx, workspaceId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<{ id: string }>`
    select u.id from users u
    where u.workspace_id = ${workspaceId} and u.id = any(${ids}::uuid[]) and (u.deleted_at is null) is true
    order by u.id
    for no key update of u`.execute(db);
  const live = new Set(rows.map((r) => r.id));
  return ids.filter((id) => !live.has(id));
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
/** Memberships (or users) one statement works through: a statement stays short whatever the group's size. */
const CHUNK = 20_000;

const nothing = (): MemberCounts => ({
  added: 0,
  removed: 0,
  addedSample: [],
  removedSample: [],
  roleChanges: 0,
});

/**
 * The parts of one membership statement, each a CTE body: `scope (user_id)`, the slice of memberships
 * or users it works through (empty for changes the request names); `gone (user_id)` and `added
 * (user_id)`, the memberships it deletes and inserts; `touched (id, member)`, the users whose role may
 * move and whether they are in the group afterwards.
 */
interface Parts {
  scope: RawBuilder<unknown>;
  gone: RawBuilder<unknown>;
  added: RawBuilder<unknown>;
  touched: RawBuilder<unknown>;
}

const none = sql`select null::uuid as user_id where false`;

/**
 * One membership statement: its changes, then the effective role of the users it touched, computed from
 * the statement's snapshot, which does not see its own changes: the group's memberships are left out
 * and `member` stands for them. Joins, not a subquery per user, so that a chunk costs about a second.
 * Only users whose role moves are written (a new version), each with its audit event.
 */
async function settle(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  parts: Parts,
  journal: RoleJournal,
): Promise<MemberCounts & { scanned: number; last: string | null }> {
  const { rows } = await sql<MemberCounts & { scanned: number; last: string | null }>`
    with scope as (${parts.scope}),
    gone as (${parts.gone}),
    added as (${parts.added}),
    touched as (${parts.touched}),
    held as (
      select t.id, g.role_id from touched t
      join group_memberships g on g.workspace_id = ${workspaceId} and g.user_id = t.id and g.role_id <> ${roleId}
      union all
      select t.id, ${roleId}::uuid from touched t where t.member),
    best as (
      select distinct on (h.id) h.id, h.role_id from held h
      join roles r on r.workspace_id = ${workspaceId} and r.id = h.role_id
      order by h.id, r.rank desc, r.name_key, r.id),
    next as materialized (
      select x.id, x.role_id as from_role_id, coalesce(b.role_id, x.direct_role_id) as to_role_id
      from touched t
      join users x on x.workspace_id = ${workspaceId} and x.id = t.id
      left join best b on b.id = t.id
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
           (select count(*) from changed)::int as "roleChanges",
           (select count(*) from scope)::int as scanned,
           (select user_id from scope order by user_id desc limit 1) as last`.execute(db);
  return rows[0]!;
}

function add(total: MemberCounts, step: MemberCounts): MemberCounts {
  return {
    added: total.added + step.added,
    removed: total.removed + step.removed,
    addedSample: [...total.addedSample, ...step.addedSample].slice(0, SAMPLE),
    removedSample: [...total.removedSample, ...step.removedSample].slice(0, SAMPLE),
    roleChanges: total.roleChanges + step.roleChanges,
  };
}

/**
 * For the rest of the caller's transaction, no JIT: the planner estimates a chunk's statement as costly
 * (it touches thousands of rows) and compiles it anew every time, which took 0.3–0.6 s of each 1–2 s
 * chunk (a PUT moving 270,000 roles: 25 s with JIT, 18 s without).
 */
async function withoutJit(db: DbOrTx): Promise<void> {
  await sql`set local jit = off`.execute(db);
}

/** Runs statements over successive slices (keyset on the user id) until a slice comes back short. */
async function chunked(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  journal: RoleJournal,
  parts: (after: string | undefined) => Parts,
): Promise<MemberCounts> {
  let total = nothing();
  let after: string | undefined;
  for (;;) {
    const step = await settle(db, workspaceId, roleId, parts(after), journal);
    total = add(total, step);
    if (step.scanned < CHUNK || step.last === null) return total;
    after = step.last;
  }
}

/** The next slice of the group's memberships, in user id order. */
const memberSlice = (workspaceId: string, roleId: string, after: string | undefined) => sql`
  select g.user_id from group_memberships g
  where g.workspace_id = ${workspaceId} and g.role_id = ${roleId}
    ${after === undefined ? sql`` : sql`and g.user_id > ${after}`}
  order by g.user_id
  limit ${CHUNK}`;

/** Deletes the memberships of the slice (but those of `keep`, when given). */
const deleteSlice = (workspaceId: string, roleId: string, keep?: string[]) => sql`
  delete from group_memberships m using scope s
  where m.workspace_id = ${workspaceId} and m.role_id = ${roleId} and m.user_id = s.user_id
    ${
      keep
        ? // An anti-join: `not (user_id = any(array))` scans the array for every member.
          sql`and not exists (select 1 from unnest(${keep}::uuid[]) as k(id) where k.id = m.user_id)`
        : sql``
    }
  returning m.user_id`;

const left = sql`select user_id as id, false as member from gone`;

/**
 * Changes a group's members: `set` makes them exactly these users (the others are removed slice by
 * slice), else `add` and `remove` (disjoint, as many as the request names) change them. The effective
 * role of everyone added or removed follows, with its audit event. The callers hold the role's lock and
 * the users' (lockUsers); the ids to add are live users. Nothing scales with the group in memory: only
 * counts and samples come back.
 */
export async function changeMembers(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  change: { set: string[] } | { add: string[]; remove: string[] },
  journal: RoleJournal,
): Promise<MemberCounts> {
  const set = 'set' in change ? change.set : undefined;
  const adding = set ?? ('add' in change ? change.add : []);
  const removing = 'remove' in change ? change.remove : [];
  // Only work over many members needs JIT off; a PATCH of a few members (an identity provider's usual
  // push, under the group's lock) is not worth the extra round trip.
  if (set || adding.length + removing.length > JIT_OFF_FROM) await withoutJit(db);
  let total = nothing();
  if (set) {
    total = await chunked(db, workspaceId, roleId, journal, (after) => ({
      scope: memberSlice(workspaceId, roleId, after),
      gone: deleteSlice(workspaceId, roleId, set),
      added: none,
      touched: left,
    }));
  }
  if (adding.length === 0 && removing.length === 0) return total;
  const step = await settle(
    db,
    workspaceId,
    roleId,
    {
      scope: none,
      gone: sql`
        delete from group_memberships
        where workspace_id = ${workspaceId} and role_id = ${roleId} and user_id = any(${removing}::uuid[])
        returning user_id`,
      added: sql`
        insert into group_memberships (workspace_id, role_id, user_id)
        select ${workspaceId}::uuid, ${roleId}::uuid, v.id from unnest(${adding}::uuid[]) as v(id) order by v.id
        on conflict do nothing
        returning user_id`,
      touched: sql`${left} union all select user_id, true from added`,
    },
    journal,
  );
  return add(total, step);
}

/**
 * A group about to be deleted loses every member; its members, then the users whose effective role it
 * still is (they held it directly, and reassignDirectRole has already given them another), get their
 * role again.
 */
export async function dissolveGroup(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  journal: RoleJournal,
): Promise<MemberCounts> {
  await withoutJit(db);
  const members = await chunked(db, workspaceId, roleId, journal, (after) => ({
    scope: memberSlice(workspaceId, roleId, after),
    gone: deleteSlice(workspaceId, roleId),
    added: none,
    touched: left,
  }));
  const holders = await chunked(db, workspaceId, roleId, journal, (after) => ({
    scope: sql`
      select u.id as user_id from users u
      where u.workspace_id = ${workspaceId} and u.role_id = ${roleId} and (u.deleted_at is null) is true
        ${after === undefined ? sql`` : sql`and u.id > ${after}`}
      order by u.id
      limit ${CHUNK}`,
    gone: none,
    added: none,
    touched: sql`select user_id as id, false as member from scope`,
  }));
  return add(members, holders);
}

/** After a role's rank changed: its members' effective roles follow. Returns how many moved. */
export async function resettleMembers(
  db: DbOrTx,
  workspaceId: string,
  roleId: string,
  journal: RoleJournal,
): Promise<number> {
  await withoutJit(db);
  const moved = await chunked(db, workspaceId, roleId, journal, (after) => ({
    scope: memberSlice(workspaceId, roleId, after),
    gone: none,
    added: none,
    touched: sql`select user_id as id, true as member from scope`,
  }));
  return moved.roleChanges;
}
