import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { DeliveryStatus } from '../db/tables.js';

const columns = [
  'id',
  'endpoint_id',
  'event_id',
  'event_type',
  'status',
  'manual',
  'attempts',
  'last_response_status',
  'last_error',
  'last_attempt_at',
  'next_attempt_at',
  'created_at',
] as const;

export interface DeliveryRecord {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  manual: boolean;
  attempts: number;
  last_response_status: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  created_at: Date;
}

/** New deliveries, due now; one per (endpoint, event): a fan-out run twice adds nothing. Returns how many. */
export async function insertDeliveries(
  tx: DbOrTx,
  workspaceId: string,
  endpointId: string,
  rows: { id: string; event_id: string; event_type: string }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sql`
    insert into webhook_deliveries (workspace_id, id, endpoint_id, event_id, event_type, next_attempt_at)
    select ${workspaceId}::uuid, v.id, ${endpointId}::uuid, v.event_id, v.event_type, now()
    from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.event_id)}::text[],
                ${rows.map((r) => r.event_type)}::text[]) as v(id, event_id, event_type)
    on conflict (endpoint_id, event_id) do nothing`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

/** A test delivery: its own body, sent once, now. */
export function insertTestDelivery(
  db: DbOrTx,
  row: { workspace_id: string; id: string; endpoint_id: string; event_id: string; payload: object },
): Promise<DeliveryRecord> {
  return db
    .insertInto('webhook_deliveries')
    .values({
      ...row,
      event_type: 'webhook.test',
      payload: JSON.stringify(row.payload),
      manual: true,
      next_attempt_at: sql<Date>`now()`,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** An endpoint's deliveries, newest first; keyset paging on id (uuidv7: creation order). */
export function listDeliveries(
  db: DbOrTx,
  workspaceId: string,
  endpointId: string,
  filters: { status?: DeliveryStatus; beforeId?: string },
  limit: number,
): Promise<DeliveryRecord[]> {
  let q = db
    .selectFrom('webhook_deliveries')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('endpoint_id', '=', endpointId);
  if (filters.status) q = q.where('status', '=', filters.status);
  if (filters.beforeId) q = q.where('id', '<', filters.beforeId);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

export function findDelivery(
  db: DbOrTx,
  workspaceId: string,
  endpointId: string,
  id: string,
): Promise<DeliveryRecord | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A failed delivery goes out once more, now, whatever the endpoint's pause. */
export function retryByHand(
  db: DbOrTx,
  workspaceId: string,
  endpointId: string,
  id: string,
): Promise<DeliveryRecord | undefined> {
  return db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', manual: true, next_attempt_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .returning(columns)
    .executeTakeFirst();
}

export interface ClaimedDelivery {
  id: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown> | null;
  /** Counting the attempt this claim starts. */
  attempts: number;
  manual: boolean;
}

/**
 * Takes the endpoint's next due delivery (a manual one only, or any: manual ones first), counts the
 * attempt and leases it: next_attempt_at moves to the lease's end, so a worker that dies leaves it due
 * again then, and no other worker takes it meanwhile. A manual delivery gets one attempt: the claim
 * clears its flag, so after a crash it waits like any other.
 */
export async function claimNext(
  db: DbOrTx,
  endpointId: string,
  which: 'manual' | 'any',
  leaseMs: number,
): Promise<ClaimedDelivery | undefined> {
  for (const manualOnly of which === 'manual' ? [true] : [true, false]) {
    const { rows } = await sql<ClaimedDelivery>`
      with c as (
        select id, manual from webhook_deliveries
        where endpoint_id = ${endpointId} and status = 'pending' and next_attempt_at <= now()
          ${manualOnly ? sql`and manual` : sql``}
        order by next_attempt_at, id
        limit 1
        for update skip locked
      )
      update webhook_deliveries d
      set attempts = d.attempts + 1, manual = false, last_attempt_at = now(),
          next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
      from c where d.id = c.id
      returning d.id, d.event_id, d.event_type, d.payload, d.attempts, c.manual`.execute(db);
    if (rows[0]) return rows[0];
  }
  return undefined;
}

export async function recordOutcome(
  db: DbOrTx,
  id: string,
  outcome: {
    status: 'succeeded' | 'pending' | 'failed';
    responseStatus: number | null;
    error: string | null;
    retryInMs?: number;
  },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: outcome.status,
      last_response_status: outcome.responseStatus,
      last_error: outcome.error,
      next_attempt_at:
        outcome.status === 'pending'
          ? sql<Date>`now() + make_interval(secs => ${(outcome.retryInMs ?? 0) / 1000})`
          : null,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** Finished deliveries older than `days` are deleted, `batch` at a time; returns how many. */
export async function purgeDeliveries(db: DbOrTx, days: number, batch = 10_000): Promise<number> {
  const result = await sql`
    delete from webhook_deliveries where id in (
      select id from webhook_deliveries
      where status <> 'pending' and created_at < now() - make_interval(days => ${days})
      limit ${batch})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
