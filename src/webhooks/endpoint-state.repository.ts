import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.js';

/** The workers' side of webhook_endpoints: fan-out position, sending state, health and due time. */

export function enabledEndpointIds(db: DbOrTx, workspaceId: string): Promise<string[]> {
  return db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('enabled', '=', true)
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((r) => r.id));
}

/** The endpoint's fan-out position, locked for the transaction; undefined when gone or disabled. */
export function lockForFanout(
  tx: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<{ event_types: string[]; feed_cursor: string | null } | undefined> {
  return tx
    .selectFrom('webhook_endpoints')
    .select(['event_types', 'feed_cursor'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('enabled', '=', true)
    .forUpdate()
    .executeTakeFirst();
}

export async function advanceCursor(
  tx: DbOrTx,
  workspaceId: string,
  id: string,
  cursor: string | null,
  newDeliveries: boolean,
): Promise<void> {
  await tx
    .updateTable('webhook_endpoints')
    .set({
      feed_cursor: cursor,
      ...(newDeliveries ? { next_due_at: sql<Date>`least(coalesce(next_due_at, now()), now())` } : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export interface SendingState {
  url: string;
  enabled: boolean;
  failure_streak: number;
  /** No automatic attempt is held back by a pause (healthy, or the pause is over). */
  gate_open: boolean;
  secret_ciphertext: Buffer;
  secret_key_id: string;
}

export function sendingState(db: DbOrTx, workspaceId: string, id: string): Promise<SendingState | undefined> {
  return db
    .selectFrom('webhook_endpoints')
    .select([
      'url',
      'enabled',
      'failure_streak',
      sql<boolean>`(paused_until is null or paused_until <= now())`.as('gate_open'),
      'secret_ciphertext',
      'secret_key_id',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function resealSecret(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  sealed: { ciphertext: Buffer; keyId: string },
): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ secret_ciphertext: sealed.ciphertext, secret_key_id: sealed.keyId })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export type RunOutcome = 'succeeded' | 'failed' | 'none';

/**
 * After a delivery run, in one transaction under the endpoint's lock: its health (a success clears
 * the failure record; a run that only failed lengthens the pause and, once the endpoint has failed for
 * `disableAfterMs`, disables it), then when it is next due. Serialised with the fan-out by the lock,
 * so a delivery the fan-out commits is never missed by the due time written here.
 */
export async function finishRun(
  tx: DbOrTx,
  workspaceId: string,
  id: string,
  outcome: RunOutcome,
  policy: { retryScheduleMs: readonly number[]; disableAfterMs: number },
): Promise<{ disabled: boolean; nextDueAt: Date | null } | undefined> {
  const { rows } = await sql<{ enabled: boolean }>`
    select enabled from webhook_endpoints where workspace_id = ${workspaceId} and id = ${id} for update`.execute(
    tx,
  );
  if (rows.length === 0) return undefined;
  let disabled = false;
  if (outcome === 'succeeded') {
    await sql`update webhook_endpoints set failing_since = null, failure_streak = 0, paused_until = null
      where workspace_id = ${workspaceId} and id = ${id}`.execute(tx);
  } else if (outcome === 'failed') {
    const schedule = policy.retryScheduleMs.length > 0 ? [...policy.retryScheduleMs] : [0];
    const { rows: changed } = await sql<{ disabled: boolean }>`
      update webhook_endpoints e set
        failing_since = coalesce(e.failing_since, now()),
        failure_streak = e.failure_streak + 1,
        paused_until = now() + make_interval(secs =>
          (${schedule}::float8[])[least(e.failure_streak + 1, ${schedule.length})] / 1000),
        enabled = e.enabled and not v.expired,
        disabled_reason = case when v.was_enabled and v.expired then 'failing' else e.disabled_reason end,
        disabled_at = case when v.was_enabled and v.expired then now() else e.disabled_at end
      from (select enabled as was_enabled,
                   coalesce(failing_since, now()) <= now() - make_interval(secs => ${policy.disableAfterMs / 1000})
                     as expired
            from webhook_endpoints where workspace_id = ${workspaceId} and id = ${id}) v
      where e.workspace_id = ${workspaceId} and e.id = ${id}
      returning (v.was_enabled and v.expired) as disabled`.execute(tx);
    disabled = changed[0]?.disabled ?? false;
  }
  return { disabled, nextDueAt: await refreshDue(tx, workspaceId, id) };
}

/**
 * When an endpoint is next due, from its pending deliveries: a manual one (a test, a retry by hand) at
 * its time; the others only while the endpoint is enabled, and not before a failing endpoint's pause
 * ends. Null when nothing is pending.
 */
const dueOf = (e: string) => sql`least(
  (select min(d.next_attempt_at) from webhook_deliveries d
   where d.endpoint_id = ${sql.ref(`${e}.id`)} and d.status = 'pending' and d.manual),
  case when ${sql.ref(`${e}.enabled`)} then (
    select case when min(d.next_attempt_at) is null then null
                when ${sql.ref(`${e}.failure_streak`)} > 0
                  then greatest(min(d.next_attempt_at), ${sql.ref(`${e}.paused_until`)})
                else min(d.next_attempt_at) end
    from webhook_deliveries d where d.endpoint_id = ${sql.ref(`${e}.id`)} and d.status = 'pending') end)`;

export async function refreshDue(tx: DbOrTx, workspaceId: string, id: string): Promise<Date | null> {
  const { rows } = await sql<{ next_due_at: Date | null }>`
    update webhook_endpoints e set next_due_at = ${dueOf('e')}
    where e.workspace_id = ${workspaceId} and e.id = ${id}
    returning e.next_due_at`.execute(tx);
  return rows[0]?.next_due_at ?? null;
}

/**
 * Due times that are missing or later than the deliveries say (a run that died, a race lost to a
 * fan-out) are moved earlier; never later, so a stale read here can cost a spare run, not a delay.
 */
export async function refreshAllDue(db: DbOrTx): Promise<number> {
  const result = await sql`
    update webhook_endpoints e set next_due_at = v.due
    from (select e2.id, ${dueOf('e2')} as due from webhook_endpoints e2) v
    where e.id = v.id and v.due is not null and (e.next_due_at is null or v.due < e.next_due_at)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
