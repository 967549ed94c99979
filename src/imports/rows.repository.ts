import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from '../db/index.js';
import type { ImportRowTable, RowFixes, RowStatus } from '../db/tables.js';

/** A staged record, as the upload writes it. */
export type StagedRow = Pick<
  Selectable<ImportRowTable>,
  | 'idx'
  | 'row_number'
  | 'cells'
  | 'email'
  | 'email_key'
  | 'name'
  | 'given_name'
  | 'family_name'
  | 'role'
  | 'location'
  | 'external_id'
  | 'status'
  | 'error_code'
  | 'error_message'
>;

/** A Postgres array literal of texts: ragged rows travel as one text each, parsed by `array_in`. */
const arrayLiteral = (cells: string[]): string =>
  `{${cells.map((c) => `"${c.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;

/** Stages a chunk of records in one statement (unnest over arrays: no 65,535-parameter ceiling). */
export async function stageRows(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  rows: StagedRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof StagedRow>(k: K) => rows.map((r) => r[k]);
  // text[][] cannot hold ragged rows, so each row's cells travel as one array literal (a cast is several
  // times cheaper for Postgres than a jsonb array unpacked by a subquery per row).
  await sql`
    insert into import_rows (workspace_id, import_id, idx, row_number, cells, email, email_key, name, given_name,
                             family_name, role, location, external_id, status, error_code, error_message)
    select ${workspaceId}::uuid, ${importId}::uuid, v.idx, v.row_number, v.cells::text[], v.email, v.email_key,
           v.name, v.given_name, v.family_name, v.role, v.location, v.external_id, v.status, v.error_code,
           v.error_message
    from unnest(${col('idx')}::int[], ${col('row_number')}::int[], ${rows.map((r) => arrayLiteral(r.cells))}::text[],
                ${col('email')}::text[], ${col('email_key')}::text[], ${col('name')}::text[], ${col('given_name')}::text[],
                ${col('family_name')}::text[], ${col('role')}::text[], ${col('location')}::text[],
                ${col('external_id')}::text[], ${col('status')}::text[], ${col('error_code')}::text[],
                ${col('error_message')}::text[])
      as v(idx, row_number, cells, email, email_key, name, given_name, family_name, role, location, external_id,
           status, error_code, error_message)`.execute(db);
}

/**
 * Marks the second and later occurrences of an e-mail (file order) duplicate_in_file; the first is
 * processed, valid or not. Returns how many rows it marked.
 */
export async function markDuplicates(db: DbOrTx, workspaceId: string, importId: string): Promise<number> {
  // Only the duplicates leave the window query, and the update finds each by primary key.
  const { rows } = await sql<{ n: number }>`
    with d as materialized (
      select idx, first_row from (
        select idx, first_value(row_number) over w as first_row, row_number() over w as rn
        from import_rows
        where workspace_id = ${workspaceId} and import_id = ${importId} and email_key is not null
          and row_number is not null
        window w as (partition by email_key order by idx)
      ) x where rn > 1
    ), marked as (
      update import_rows r set status = 'failed', error_code = 'duplicate_in_file',
        error_message = 'This e-mail already appears in row ' || d.first_row ||
          '; only the first occurrence is imported. Remove or merge the duplicate row.'
      from d
      where r.workspace_id = ${workspaceId} and r.import_id = ${importId} and r.idx = d.idx and r.status = 'pending'
      returning 1
    )
    select count(*)::int as n from marked`.execute(db);
  return rows[0]?.n ?? 0;
}

export async function batchRanges(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  size: number,
): Promise<{ fromIdx: number; toIdx: number }[]> {
  const { rows } = await sql<{ from_idx: number; to_idx: number }>`
    select min(idx)::int as from_idx, max(idx)::int as to_idx from (
      select idx, (row_number() over (order by idx) - 1) / ${size} as bucket
      from import_rows where workspace_id = ${workspaceId} and import_id = ${importId} and status = 'pending'
    ) b group by bucket order by bucket`.execute(db);
  return rows.map((r) => ({ fromIdx: r.from_idx, toIdx: r.to_idx }));
}

export async function countPending(db: DbOrTx, workspaceId: string, importId: string): Promise<number> {
  const row = await db
    .selectFrom('import_rows')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export function pendingRows(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  afterIdx: number,
  limit: number,
  toIdx = 2_147_483_647,
) {
  return db
    .selectFrom('import_rows')
    .select([
      'idx',
      'row_number',
      'email',
      'name',
      'given_name',
      'family_name',
      'role',
      'location',
      'external_id',
      'user_id',
      'user_version',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .where('status', '=', 'pending')
    .where('idx', '>', afterIdx)
    .where('idx', '<=', toIdx)
    .orderBy('idx')
    .limit(limit)
    .execute();
}

/** What a batch writes back to a row. */
export type RowResult = Pick<
  Selectable<ImportRowTable>,
  | 'idx'
  | 'status'
  | 'invitation'
  | 'invitation_id'
  | 'error_code'
  | 'error_message'
  | 'user_id'
  | 'user_version'
>;

/**
 * Writes a batch's row results, only over rows still pending; returns how many it wrote. Fewer than
 * given means another run of the same import got there first: the caller rolls its batch back.
 */
export async function writeRowResults(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  results: RowResult[],
): Promise<number> {
  if (results.length === 0) return 0;
  // One JSON text rather than an array per column: see `records` in the engine's users.repository.ts.
  const { rows } = await sql<{ n: number }>`
    with w as (
      update import_rows r set status = v.status, invitation = v.invitation, invitation_id = v.invitation_id,
        error_code = v.error_code, error_message = v.error_message, user_id = v.user_id, user_version = v.user_version
      from json_to_recordset(${JSON.stringify(results)}::json)
        as v(idx int, status text, invitation text, invitation_id uuid, error_code text, error_message text,
             user_id uuid, user_version int)
      where r.workspace_id = ${workspaceId} and r.import_id = ${importId} and r.idx = v.idx and r.status = 'pending'
        -- Bounded to the batch's idx range so the planner never hashes every pending row of a large import.
        and r.idx between ${Math.min(...results.map((r) => r.idx))} and ${Math.max(...results.map((r) => r.idx))}
      returning 1
    )
    select count(*)::int as n from w`.execute(db);
  return rows[0]?.n ?? 0;
}

/**
 * Failed rows back to pending, for a retry. Returns how many. In-file duplicates and malformed records
 * would fail the same way again, so they stay failed unless they were corrected in the app.
 */
export async function resetFailedRows(db: DbOrTx, workspaceId: string, importId: string): Promise<number> {
  const result = await db
    .updateTable('import_rows')
    .set({ status: 'pending', error_code: null, error_message: null, invitation: null, invitation_id: null })
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .where('status', '=', 'failed')
    .where('row_number', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('error_code', 'is', null),
        eb('error_code', 'not in', ['duplicate_in_file', 'malformed_row']),
        eb('fixes', 'is not', null),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Copies the staged rows of a finished dry run into a new import, all pending again (apply). */
export async function copyRows(db: DbOrTx, workspaceId: string, fromId: string, toId: string): Promise<void> {
  await sql`
    insert into import_rows (workspace_id, import_id, idx, row_number, cells, email, email_key, name, given_name,
                             family_name, role, location, external_id, status, error_code, error_message, fixes)
    select workspace_id, ${toId}, idx, row_number, cells, email, email_key, name, given_name, family_name, role,
           location, external_id,
           case when error_code = 'malformed_row' and fixes is null then 'failed' else 'pending' end,
           case when error_code = 'malformed_row' and fixes is null then error_code end,
           case when error_code = 'malformed_row' and fixes is null then error_message end,
           fixes
    from import_rows
    where workspace_id = ${workspaceId} and import_id = ${fromId} and row_number is not null`.execute(db);
}

export type ListedRow = Awaited<ReturnType<typeof listRows>>[number];

export function listRows(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  filter: { status?: RowStatus; afterIdx?: number },
  limit: number,
) {
  let q = db
    .selectFrom('import_rows as r')
    .leftJoin('invitations as i', (j) =>
      j.onRef('i.workspace_id', '=', 'r.workspace_id').onRef('i.id', '=', 'r.invitation_id'),
    )
    .select([
      'r.idx',
      'r.row_number',
      'r.cells',
      'r.email',
      'r.name',
      'r.given_name',
      'r.family_name',
      'r.role',
      'r.location',
      'r.status',
      'r.invitation',
      'r.error_code',
      'r.error_message',
      'r.user_id',
      'r.fixes',
      'i.send_state',
    ])
    .where('r.workspace_id', '=', workspaceId)
    .where('r.import_id', '=', importId);
  if (filter.status) q = q.where('r.status', '=', filter.status);
  if (filter.afterIdx !== undefined) q = q.where('r.idx', '>', filter.afterIdx);
  return q.orderBy('r.idx').limit(limit).execute();
}

export async function maxIdx(db: DbOrTx, workspaceId: string, importId: string): Promise<number> {
  const row = await db
    .selectFrom('import_rows')
    .select((eb) => eb.fn.max('idx').as('max'))
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .executeTakeFirst();
  return row?.max ?? 0;
}

/** One staged row by its number in the file, locked for a correction. */
export function lockRowByNumber(db: DbOrTx, workspaceId: string, importId: string, rowNumber: number) {
  return db
    .selectFrom('import_rows')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .where('row_number', '=', rowNumber)
    .forUpdate()
    .executeTakeFirst();
}

/** Writes a row's corrected values and the record of what they were corrected from. */
export async function writeRowFix(
  db: DbOrTx,
  workspaceId: string,
  importId: string,
  idx: number,
  values: {
    email: string | null;
    email_key: string | null;
    name: string | null;
    given_name: string | null;
    family_name: string | null;
    role: string | null;
    location: string | null;
  },
  fixes: RowFixes,
): Promise<void> {
  await db
    .updateTable('import_rows')
    .set({ ...values, fixes: JSON.stringify(fixes) })
    .where('workspace_id', '=', workspaceId)
    .where('import_id', '=', importId)
    .where('idx', '=', idx)
    .execute();
}
