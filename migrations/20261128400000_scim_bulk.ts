import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// scim_bulk_requests: one SCIM Bulk request (RFC 7644 §3.7), staged by the API and run by a worker.
// `operations` holds the validated operations (cleared once the request is done: personal data);
// `results` maps an operation's index to its outcome and is written in the same transaction as the
// users of each batch, so a re-run skips what is done.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('scim_bulk_requests')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(sql`status in ('queued', 'running', 'done')`),
    )
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('fail_on_errors', 'integer')
    .addColumn('operation_count', 'integer', (c) => c.notNull())
    .addColumn('operations', 'jsonb')
    .addColumn('results', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('batches', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('scim_bulk_requests_pkey', ['workspace_id', 'id'])
    .execute();
  await sql`create index scim_bulk_requests_unfinished on scim_bulk_requests (id) where status <> 'done'`.execute(
    db,
  );
  await sql`create index scim_bulk_requests_finished on scim_bulk_requests (finished_at) where status = 'done'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('scim_bulk_requests').execute();
}
