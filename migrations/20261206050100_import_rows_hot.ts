import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// A staged row is written twice: staged, then its outcome. With `status` in an index predicate
// (import_rows_pending) every outcome write was a new index entry and a non-HOT update; without that
// index, and with half of each page left free for the second version, the write-back is a HOT update
// (no index touched). Pending rows are found through the primary key (workspace_id, import_id, idx),
// which every reader of pending rows already bounds by import and idx range.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index import_rows_pending`.execute(db);
  await sql`alter table import_rows set (fillfactor = 50)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table import_rows reset (fillfactor)`.execute(db);
  await sql`create index import_rows_pending on import_rows (import_id, idx) where status = 'pending'`.execute(
    db,
  );
}
