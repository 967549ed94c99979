import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/index.js';

/**
 * The invitations table is the e-mail outbox: send_state 'queued' rows wait for the drain, 'sending'
 * rows are leased to a drain, which renews sending_since while it lives. The partial index
 * invitations_outbox on (workspace_id, id) where send_state in ('queued', 'sending') keeps these
 * queries off the sent rows; invitations_leased holds only the 'sending' ones.
 */

export interface OutboxMessage {
  id: string;
  expiresAt: Date;
  sendAttempts: number;
  email: string;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  workspaceName: string;
}

/**
 * How many queued rows past the slice a claim looks at, so that a run of revoked or expired
 * invitations (a bulk resend revokes many) is settled as 'not_sent' without using up send slots.
 */
const LOOKAHEAD = 200;

/**
 * Leases up to `limit` sendable rows of one workspace, oldest first, in one statement: they become
 * 'sending' with an attempt counted. Queued rows among the first limit + LOOKAHEAD that can no longer
 * be sent (invitation not pending, expired, user deleted or deactivated) become 'not_sent' instead:
 * an e-mail whose link could only fail is not worth sending. Rows another drain holds are skipped.
 */
export async function claimSlice(db: DbOrTx, workspaceId: string, limit: number): Promise<OutboxMessage[]> {
  if (!db.isTransaction) return db.transaction().execute((tx) => claimSlice(tx, workspaceId, limit));
  // During a bulk import the statistics lag far behind a fast-growing outbox: the planner then picks a
  // bitmap scan and sorts every queued row of the workspace to take the first few hundred. The ordered
  // walk of the partial index stops after `limit` rows whatever the statistics say.
  await sql`set local enable_bitmapscan = off`.execute(db);
  const { rows } = await sql<OutboxMessage>`
    with candidates as (
      select i.id, u.email, u.display_name, u.given_name, u.family_name,
             (i.status = 'pending' and i.expires_at > now()
              and (u.deleted_at is null) is true and u.status <> 'deactivated') as sendable
      from invitations i
      join users u on u.workspace_id = i.workspace_id and u.id = i.user_id
      where i.workspace_id = ${workspaceId} and i.send_state = 'queued'
      order by i.id
      limit ${limit + LOOKAHEAD}
      for update of i skip locked
    ),
    chosen as (
      select id from candidates where sendable order by id limit ${limit}
    ),
    claimed as (
      update invitations i
      set send_state = case when c.sendable then 'sending' else 'not_sent' end,
          sending_since = case when c.sendable then now() end,
          send_attempts = i.send_attempts + case when c.sendable then 1 else 0 end
      from candidates c
      where i.workspace_id = ${workspaceId} and i.id = c.id
        and (not c.sendable or c.id in (select id from chosen))
      returning i.id, i.expires_at, i.send_attempts, i.send_state
    )
    select cl.id, cl.expires_at as "expiresAt", cl.send_attempts as "sendAttempts", c.email,
           c.display_name as "displayName", c.given_name as "givenName", c.family_name as "familyName",
           w.name as "workspaceName"
    from claimed cl
    join candidates c on c.id = cl.id
    join workspaces w on w.id = ${workspaceId}
    where cl.send_state = 'sending'
    order by cl.id`.execute(db);
  return rows;
}

/**
 * Right before a leased message is handed to the SMTP server: whether it can still be sent (its
 * invitation pending and unexpired, its user neither deleted nor deactivated). A message revoked while
 * it waited in its slice (a revert deleted the user, a resend replaced it) becomes 'not_sent' and false
 * is returned, so that a change that revokes an invitation stops its e-mail unless it is already going out.
 */
export async function stillSendable(db: DbOrTx, workspaceId: string, id: string): Promise<boolean> {
  const { rows } = await sql<{ sendable: boolean }>`
    select (i.status = 'pending' and i.expires_at > now()
            and (u.deleted_at is null) is true and u.status <> 'deactivated') as sendable
    from invitations i
    join users u on u.workspace_id = i.workspace_id and u.id = i.user_id
    where i.workspace_id = ${workspaceId} and i.id = ${id}`.execute(db);
  if (rows[0]?.sendable) return true;
  await sql`
    update invitations set send_state = 'not_sent', sending_since = null
    where workspace_id = ${workspaceId} and id = ${id} and send_state = 'sending'`.execute(db);
  return false;
}

/**
 * The server accepted it; a row the sweeper put back meanwhile is marked too, so it is not sent again.
 * Committed without waiting for the WAL flush (synchronous_commit off for this
 * transaction alone): a worker crash loses nothing, since the commit is in Postgres's memory; a
 * Postgres crash may lose the last fraction of a second of marks, and those messages are sent again
 * with their Message-IDs. Nothing else the service writes commits this way.
 */
export async function markSent(db: Db, workspaceId: string, id: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`set local synchronous_commit = off`.execute(tx);
    await tx
      .updateTable('invitations')
      .set({ send_state: 'sent', sent_at: sql`now()`, sending_since: null, last_error: null })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('send_state', 'in', ['sending', 'queued'])
      .execute();
  });
}

/** The server refused it for good: never sent again (a resend creates a new invitation). */
export async function markFailed(db: DbOrTx, workspaceId: string, id: string, error: string): Promise<void> {
  await db
    .updateTable('invitations')
    .set({ send_state: 'failed', sending_since: null, last_error: error })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('send_state', '=', 'sending')
    .execute();
}

/**
 * Back to 'queued' after a transient refusal of this message; 'failed' once it has had
 * `maxAttempts`. Returns the state it ended in.
 */
export async function retryLater(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  error: string,
  maxAttempts: number,
): Promise<'queued' | 'failed' | undefined> {
  const row = await db
    .updateTable('invitations')
    .set({
      send_state: sql`case when send_attempts >= ${maxAttempts} then 'failed' else 'queued' end`,
      sending_since: null,
      last_error: error,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('send_state', '=', 'sending')
    .returning('send_state')
    .executeTakeFirst();
  return row?.send_state as 'queued' | 'failed' | undefined;
}

/** Back to 'queued' without counting an attempt: these were not tried, or failed through no fault of theirs. */
export async function release(db: DbOrTx, workspaceId: string, ids: string[], error?: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('invitations')
    .set({
      send_state: 'queued',
      sending_since: null,
      send_attempts: sql`greatest(send_attempts - 1, 0)`,
      ...(error === undefined ? {} : { last_error: error }),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .where('send_state', '=', 'sending')
    .execute();
}

export async function hasQueued(db: DbOrTx, workspaceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('invitations')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('send_state', '=', 'queued')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Workspaces with queued rows, in id order after `after`. A loose index scan over the partial index:
 * one probe per workspace, however many rows a workspace has queued.
 */
export async function workspacesWithQueued(db: DbOrTx, limit: number, after?: string): Promise<string[]> {
  const start = after ?? '00000000-0000-0000-0000-000000000000';
  const { rows } = await sql<{ workspace_id: string }>`
    with recursive ws as (
      (select workspace_id from invitations
       where send_state = 'queued' and workspace_id > ${start}::uuid
       order by workspace_id limit 1)
      union all
      select (select i.workspace_id from invitations i
              where i.send_state = 'queued' and i.workspace_id > ws.workspace_id
              order by i.workspace_id limit 1)
      from ws where ws.workspace_id is not null
    )
    select workspace_id from ws where workspace_id is not null limit ${limit}`.execute(db);
  return rows.map((r) => r.workspace_id);
}

/** The drain still holds these rows: their lease starts again from now. */
export async function renewLeases(db: DbOrTx, workspaceId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('invitations')
    .set({ sending_since: sql`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .where('send_state', '=', 'sending')
    .execute();
}

const leaseExpired = (leaseMs: number) =>
  sql<boolean>`sending_since < now() - make_interval(secs => ${leaseMs / 1000})`;

/**
 * Rows whose lease was not renewed for `leaseMs` belong to a drain that died: back to 'queued' (their
 * attempt stays counted, so a message that kills its worker every time ends 'failed' after
 * `maxAttempts`). Postgres's clock decides, so workers' clocks do not matter. One workspace's rows, or
 * every workspace's. Returns the workspaces concerned, each once.
 */
export async function requeueStale(
  db: DbOrTx,
  leaseMs: number,
  options: { workspaceId?: string; maxAttempts?: number } = {},
): Promise<string[]> {
  const maxAttempts = options.maxAttempts ?? 5;
  let query = db
    .updateTable('invitations')
    .set({
      send_state: sql`case when send_attempts >= ${maxAttempts} then 'failed' else 'queued' end`,
      sending_since: null,
      last_error: sql`case when send_attempts >= ${maxAttempts}
        then 'the worker sending it stopped ' || send_attempts || ' times' else last_error end`,
    })
    .where('send_state', '=', 'sending')
    .where(leaseExpired(leaseMs));
  if (options.workspaceId !== undefined) query = query.where('workspace_id', '=', options.workspaceId);
  const rows = await query.returning('workspace_id').execute();
  return [...new Set(rows.map((r) => r.workspace_id))];
}

/** Milliseconds until the workspace's first lease expires (0 if one has), or undefined when none is held. */
export async function nextLeaseExpiry(
  db: DbOrTx,
  workspaceId: string,
  leaseMs: number,
): Promise<number | undefined> {
  const { rows } = await sql<{ ms: number | null }>`
    select (extract(epoch from (min(sending_since) + make_interval(secs => ${leaseMs / 1000}) - now()))
      * 1000)::int as ms
    from invitations where workspace_id = ${workspaceId} and send_state = 'sending'`.execute(db);
  const ms = rows[0]?.ms ?? null;
  return ms === null ? undefined : Math.max(0, ms);
}
