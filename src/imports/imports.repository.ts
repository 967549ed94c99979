import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { ImportMode, ImportStatus, ImportTable } from '../db/tables.js';
import type { Field } from './pipeline/aliases.js';
import type { ImportWarning, MappingSource } from './pipeline/mapping.js';

export type ImportRow = Selectable<ImportTable>;

const columns = [
  'workspace_id',
  'id',
  'status',
  'mode',
  'dry_run',
  'send_invites',
  'default_role',
  'notify_email',
  'confirm_deactivations',
  'file_name',
  'encoding',
  'delimiter',
  'columns',
  'mapping',
  'total_rows',
  'processed_rows',
  'created',
  'updated',
  'unchanged',
  'skipped',
  'failed',
  'deactivated',
  'invited',
  'error',
  'attempt',
  'cancel_requested',
  'applied_from',
  'created_by',
  'created_at',
  'started_at',
  'finished_at',
  'purged_at',
  'format',
  'sheet',
  'kind',
  'revert_of',
  'reverted_by',
  'deleted',
  'mapping_sources',
  'warnings',
] as const;

export interface NewImport {
  workspace_id: string;
  id: string;
  mode: ImportMode;
  dry_run: boolean;
  send_invites: boolean;
  default_role: string | null;
  notify_email: string | null;
  confirm_deactivations: number | null;
  file_name: string | null;
  format: 'csv' | 'xlsx';
  sheet: string | null;
  encoding: string;
  delimiter: string;
  columns: string[];
  mapping: Record<string, number>;
  mapping_sources: Partial<Record<Field, MappingSource>>;
  warnings: ImportWarning[];
  total_rows: number;
  failed: number;
  processed_rows: number;
  applied_from: string | null;
  created_by: string;
  kind?: 'import' | 'revert';
  revert_of?: string | null;
}

export async function insertImport(db: DbOrTx, row: NewImport): Promise<ImportRow> {
  return db
    .insertInto('imports')
    .values({
      ...row,
      columns: JSON.stringify(row.columns),
      mapping: JSON.stringify(row.mapping),
      mapping_sources: JSON.stringify(row.mapping_sources),
      warnings: JSON.stringify(row.warnings),
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export function findImport(db: DbOrTx, workspaceId: string, id: string): Promise<ImportRow | undefined> {
  return db
    .selectFrom('imports')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function findImports(db: DbOrTx, workspaceId: string, ids: string[]): Promise<ImportRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('imports')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}

export function lockImport(db: DbOrTx, workspaceId: string, id: string): Promise<ImportRow | undefined> {
  return db
    .selectFrom('imports')
    .select(columns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/** Newest first (UUIDv7 ids), keyset-paged. */
export function listImports(
  db: DbOrTx,
  workspaceId: string,
  limit: number,
  beforeId?: string,
): Promise<ImportRow[]> {
  let q = db.selectFrom('imports').select(columns).where('workspace_id', '=', workspaceId);
  if (beforeId) q = q.where('id', '<', beforeId);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

export async function setImport(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  set: Partial<{
    status: ImportStatus;
    started_at: Date | null;
    finished_at: Date | null;
    error: null;
    attempt: number;
    cancel_requested: boolean;
    total_rows: number;
    reverted_by: string;
  }>,
): Promise<ImportRow> {
  return db
    .updateTable('imports')
    .set(set)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  deactivated: number;
  deleted: number;
  invited: number;
  processed: number;
}

/** Adds a batch's counts to the import, in the batch's transaction; returns whether a cancel was asked. */
export async function addCounts(db: DbOrTx, workspaceId: string, id: string, c: Counts): Promise<boolean> {
  const { rows } = await sql<{ cancel_requested: boolean }>`
    update imports set created = created + ${c.created}, updated = updated + ${c.updated},
      unchanged = unchanged + ${c.unchanged}, skipped = skipped + ${c.skipped}, failed = failed + ${c.failed},
      deactivated = deactivated + ${c.deactivated}, deleted = deleted + ${c.deleted}, invited = invited + ${c.invited},
      processed_rows = processed_rows + ${c.processed}
    where workspace_id = ${workspaceId} and id = ${id}
    returning cancel_requested`.execute(db);
  return rows[0]?.cancel_requested ?? false;
}

/** Recomputes the counters from the rows: each run starts from Postgres's truth, whatever a crash left. */
/** Sets the import's counters from its rows' statuses; returns the import as it now is. */
export async function recount(db: DbOrTx, workspaceId: string, id: string): Promise<ImportRow> {
  const { rows } = await sql<ImportRow>`
    update imports i set created = c.created, updated = c.updated, unchanged = c.unchanged, skipped = c.skipped,
      failed = c.failed, deactivated = c.deactivated, deleted = c.deleted, invited = c.invited,
      processed_rows = c.processed
    from (
      select count(*) filter (where status = 'created')::int as created,
             count(*) filter (where status = 'updated')::int as updated,
             count(*) filter (where status = 'unchanged')::int as unchanged,
             count(*) filter (where status = 'skipped')::int as skipped,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status = 'deactivated')::int as deactivated,
             count(*) filter (where status = 'deleted')::int as deleted,
             count(*) filter (where invitation = 'queued')::int as invited,
             count(*) filter (where status <> 'pending' and row_number is not null)::int as processed
      from import_rows where workspace_id = ${workspaceId} and import_id = ${id}
    ) c
    where i.workspace_id = ${workspaceId} and i.id = ${id}
    returning ${sql.join(columns.map((c) => sql.ref(`i.${c}`)))}`.execute(db);
  return rows[0]!;
}

/** Imports Postgres says should be running: the sweeper makes sure each has a live job. */
export function unfinishedImports(
  db: DbOrTx,
  limit = 1000,
): Promise<{ workspace_id: string; id: string; attempt: number }[]> {
  return db
    .selectFrom('imports')
    .select(['workspace_id', 'id', 'attempt'])
    .where('status', 'in', ['queued', 'processing'])
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function setImportError(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  status: ImportStatus,
  error: { code: string; message: string },
): Promise<ImportRow> {
  return db
    .updateTable('imports')
    .set({
      status,
      error: JSON.stringify(error),
      ...(status === 'failed' ? { finished_at: new Date() } : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** Moves an unfinished import to its next attempt (a new job id) unless another sweeper already did. */
export async function bumpAttempt(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  from: number,
): Promise<boolean> {
  const result = await db
    .updateTable('imports')
    .set({ attempt: from + 1 })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('attempt', '=', from)
    .where('status', 'in', ['queued', 'processing'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * The header a worker read from a converted workbook: the row the API's peek read, now with dates as
 * dates (the peek reads no styles). The mapping, by column index, stays as the upload resolved it.
 */
export async function setHeader(
  db: DbOrTx,
  workspaceId: string,
  id: string,
  header: { columns: string[] },
): Promise<void> {
  await db
    .updateTable('imports')
    .set({ columns: JSON.stringify(header.columns) })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function setTotal(db: DbOrTx, workspaceId: string, id: string, total: number): Promise<void> {
  await db
    .updateTable('imports')
    .set({ total_rows: total })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/**
 * Retention: deletes the staged rows (personal data) of imports finished more than `days` ago and
 * marks them purged; the import's summary stays. A page at a time, so one sweep never runs long.
 */
export async function purgeExpired(db: DbOrTx, days: number, limit = 100): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    with expired as (
      select workspace_id, id from imports
      where purged_at is null and finished_at < now() - make_interval(days => ${days})
      order by finished_at limit ${limit}
    ), gone as (
      delete from import_rows r using expired e where r.workspace_id = e.workspace_id and r.import_id = e.id
    ), gone_workbooks as (
      delete from import_workbooks w using expired e where w.workspace_id = e.workspace_id and w.import_id = e.id
    ), marked as (
      update imports i set purged_at = now() from expired e where i.workspace_id = e.workspace_id and i.id = e.id returning 1
    )
    select count(*)::int as n from marked`.execute(db);
  await sql`delete from idempotency_keys where created_at < now() - interval '24 hours'`.execute(db);
  return rows[0]?.n ?? 0;
}
