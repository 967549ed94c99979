import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { Position } from './cursor.js';

export interface EventRow {
  tx: string;
  id: string;
  action: string;
  user_id: string | null;
  target_id: string | null;
  created_at: Date;
}

/** From a position: after it, or (the window's start) at it. */
export interface From extends Position {
  inclusive: boolean;
}

const after = (from: From) =>
  from.inclusive
    ? sql`(tx, id) >= (${from.tx}::xid8, ${from.id}::uuid)`
    : sql`(tx, id) > (${from.tx}::xid8, ${from.id}::uuid)`;

/**
 * The feed's reads walk the (workspace_id, tx, id) index in order and stop early. Without statistics
 * (right after a bulk import) the planner takes a bitmap of every event of the workspace and sorts it
 * instead: off for the reading transaction, as for the users list.
 */
export async function preferIndexOrder(tx: DbOrTx): Promise<void> {
  await sql`set local enable_bitmapscan = off`.execute(tx);
}

/**
 * The snapshot's xmin (every transaction below it has finished, so the events below it are all there
 * is) and the first event of the workspace written at or after `floor` (a uuidv7: a time), which starts
 * the feed's window. Later statements compare with this xmin as a value: the events below it do not
 * change whatever snapshot reads them.
 */
export async function feedBounds(
  db: DbOrTx,
  workspaceId: string,
  floor: string,
): Promise<{ xmin: string; start: Position | undefined }> {
  const { rows } = await sql<{ xmin: string; tx: string | null; id: string | null }>`
    select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, s.tx::text as tx, s.id
    from (select 1) one left join lateral (
      select tx, id from audit_events where workspace_id = ${workspaceId} and id >= ${floor}::uuid
      order by id limit 1
    ) s on true`.execute(db);
  const row = rows[0]!;
  return { xmin: row.xmin, start: row.tx && row.id ? { tx: row.tx, id: row.id } : undefined };
}

/**
 * The events (audit events whose action is one of `actions`, written since `since`) among the first
 * `scan` journal entries from `from` below `xmin`, in commit order, at most `take`. Postgres stops
 * reading at `take` matches.
 */
export async function eventsFrom(
  db: DbOrTx,
  workspaceId: string,
  from: From,
  xmin: string,
  filter: { actions: string[]; since: Date },
  scan: number,
  take: number,
): Promise<EventRow[]> {
  const { rows } = await sql<EventRow>`
    select e.tx::text as tx, e.id, e.action, e.user_id, e.target_id, e.created_at
    from (
      select tx, id, action, user_id, target_id, created_at from audit_events
      where workspace_id = ${workspaceId} and ${after(from)} and tx < ${xmin}::xid8
      order by tx, id limit ${scan}
    ) e
    where e.action = any(${filter.actions}::text[]) and e.created_at >= ${filter.since}
    order by e.tx, e.id limit ${take}`.execute(db);
  return rows;
}

/** The last of the first `scan` journal entries from `from` below `xmin`, and how many there were. */
export async function scanEnd(
  db: DbOrTx,
  workspaceId: string,
  from: From,
  xmin: string,
  scan: number,
): Promise<(Position & { n: number }) | undefined> {
  const { rows } = await sql<Position & { n: number }>`
    select s.tx::text as tx, s.id, count(*) over ()::int as n
    from (
      select tx, id from audit_events
      where workspace_id = ${workspaceId} and ${after(from)} and tx < ${xmin}::xid8
      order by tx, id limit ${scan}
    ) s
    order by s.tx desc, s.id desc limit 1`.execute(db);
  return rows[0];
}

/** Whether an event of `actions` lies after `from` and before `to` (events a late reader missed). */
export async function anyEventBetween(
  db: DbOrTx,
  workspaceId: string,
  from: Position,
  to: Position | undefined,
  xmin: string,
  actions: string[],
): Promise<boolean> {
  const { rows } = await sql`
    select 1 from audit_events
    where workspace_id = ${workspaceId} and (tx, id) > (${from.tx}::xid8, ${from.id}::uuid)
      and ${to ? sql`(tx, id) < (${to.tx}::xid8, ${to.id}::uuid)` : sql`true`}
      and tx < ${xmin}::xid8 and action = any(${actions}::text[])
    limit 1`.execute(db);
  return rows.length > 0;
}

/** The newest journal entry whose transaction is below the snapshot's xmin. */
export async function newestPosition(db: DbOrTx, workspaceId: string): Promise<Position | undefined> {
  // Ordered by the column (xid8), not by its text: "9" sorts after "10".
  const { rows } = await sql<Position>`
    select a.tx::text as tx, a.id from audit_events a
    where a.workspace_id = ${workspaceId} and a.tx < pg_snapshot_xmin(pg_current_snapshot())
    order by a.tx desc, a.id desc limit 1`.execute(db);
  return rows[0];
}

export async function eventById(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  actions: string[],
): Promise<EventRow | undefined> {
  const { rows } = await sql<EventRow>`
    select tx::text as tx, id, action, user_id, target_id, created_at from audit_events
    where workspace_id = ${workspaceId} and id = ${id}::uuid and action = any(${actions}::text[])`.execute(
    db,
  );
  return rows[0];
}
