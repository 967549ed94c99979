import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// The journal is the events outbox. Each audit event records the transaction that wrote it (`tx`, its
// 64-bit id), so that the events feed can page in commit order: it reads only events whose transaction
// is below the reading snapshot's xmin (every such transaction has finished), by (tx, id).
// Rows already there get tx 0 (a constant default adds the column without rewriting the table), so they
// come first, by id; new rows take the writing transaction's id.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_events add column tx xid8 not null default '0'::xid8`.execute(db);
  await sql`alter table audit_events alter column tx set default pg_current_xact_id()`.execute(db);
  await sql`create index audit_events_feed on audit_events (workspace_id, tx, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index audit_events_feed`.execute(db);
  await sql`alter table audit_events drop column tx`.execute(db);
}
