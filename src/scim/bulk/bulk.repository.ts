import { sql } from 'kysely';
import type { DbOrTx } from '../../db/index.js';
import type { BulkStatus } from '../../db/tables.js';
import type { BulkOperation, BulkOpResult } from './types.js';

export interface NewBulkRequest {
  workspaceId: string;
  id: string;
  actor: string;
  failOnErrors: number | null;
  operations: BulkOperation[];
}

export async function insertBulkRequest(db: DbOrTx, r: NewBulkRequest): Promise<void> {
  await db
    .insertInto('scim_bulk_requests')
    .values({
      workspace_id: r.workspaceId,
      id: r.id,
      actor: r.actor,
      fail_on_errors: r.failOnErrors,
      operation_count: r.operations.length,
      operations: JSON.stringify(r.operations),
    })
    .execute();
}

export async function bulkStatus(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<BulkStatus | undefined> {
  const row = await db
    .selectFrom('scim_bulk_requests')
    .select('status')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.status;
}

export async function bulkResults(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<{ status: BulkStatus; results: Record<string, BulkOpResult> } | undefined> {
  const row = await db
    .selectFrom('scim_bulk_requests')
    .select(['status', 'results'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { status: row.status, results: row.results as Record<string, BulkOpResult> } : undefined;
}

export interface RunnableBulk {
  actor: string;
  fail_on_errors: number | null;
  operations: BulkOperation[];
  results: Record<string, BulkOpResult>;
}

/** Marks an unfinished request running and returns what a run needs; undefined once it is done. */
export async function startBulkRequest(
  db: DbOrTx,
  workspaceId: string,
  id: string,
): Promise<RunnableBulk | undefined> {
  const row = await db
    .updateTable('scim_bulk_requests')
    .set({ status: 'running', started_at: sql<Date>`coalesce(started_at, now())` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '<>', 'done')
    .returning(['actor', 'fail_on_errors', 'operations', 'results'])
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    actor: row.actor,
    fail_on_errors: row.fail_on_errors,
    operations: (row.operations ?? []) as BulkOperation[],
    results: row.results as Record<string, BulkOpResult>,
  };
}

/**
 * Adds results (operation index → outcome) to a running request, in the caller's transaction. False
 * when the request is done or another run recorded one of these operations first: the caller then
 * rolls back its writes.
 */
export async function recordBulkResults(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  results: Record<string, BulkOpResult>,
  batches: number,
): Promise<boolean> {
  const keys = Object.keys(results);
  if (keys.length === 0) return true;
  const { rows } = await sql<{ id: string }>`
    update scim_bulk_requests set results = results || ${JSON.stringify(results)}::jsonb,
      batches = batches + ${batches}
    where workspace_id = ${workspaceId} and id = ${id} and status = 'running'
      and not (results ?| ${keys}::text[])
    returning id`.execute(db);
  return rows.length > 0;
}

/** Done: the staged operations (personal data) are dropped; the results stay for reading. */
export async function finishBulkRequest(db: DbOrTx, workspaceId: string, id: string): Promise<void> {
  await db
    .updateTable('scim_bulk_requests')
    .set({ status: 'done', finished_at: new Date(), operations: null })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '<>', 'done')
    .execute();
}

export function unfinishedBulkRequests(
  db: DbOrTx,
  limit = 1000,
): Promise<{ workspace_id: string; id: string }[]> {
  return db
    .selectFrom('scim_bulk_requests')
    .select(['workspace_id', 'id'])
    .where('status', '<>', 'done')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Deletes requests finished more than `hours` ago; returns how many. */
export async function purgeBulkRequests(db: DbOrTx, hours: number): Promise<number> {
  const result = await db
    .deleteFrom('scim_bulk_requests')
    .where('status', '=', 'done')
    .where('finished_at', '<', sql<Date>`now() - make_interval(hours => ${hours})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
