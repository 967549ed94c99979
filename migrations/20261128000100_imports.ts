import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// imports: one uploaded file and its counters. import_rows: its staged records, one row per record
// (plus sync deactivations), with the status each got. idempotency_keys: Idempotency-Key claims.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('imports')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(
          sql`status in ('queued', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled')`,
        ),
    )
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('create', 'upsert', 'sync')`))
    .addColumn('dry_run', 'boolean', (c) => c.notNull())
    .addColumn('send_invites', 'boolean', (c) => c.notNull())
    .addColumn('default_role', 'text')
    .addColumn('notify_email', 'text')
    .addColumn('confirm_deactivations', 'integer')
    .addColumn('file_name', 'text')
    .addColumn('encoding', 'text', (c) => c.notNull())
    .addColumn('delimiter', 'text', (c) => c.notNull())
    .addColumn('columns', 'jsonb', (c) => c.notNull())
    .addColumn('mapping', 'jsonb', (c) => c.notNull())
    .addColumn('total_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('processed_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unchanged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deactivated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('invited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'jsonb')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('applied_from', 'uuid')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('purged_at', 'timestamptz')
    .addPrimaryKeyConstraint('imports_pkey', ['workspace_id', 'id'])
    .execute();
  await sql`create index imports_unfinished on imports (id) where status in ('queued', 'processing')`.execute(
    db,
  );

  await db.schema
    .createTable('import_rows')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('import_id', 'uuid', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('row_number', 'integer')
    .addColumn('cells', sql`text[]`, (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_key', 'text')
    .addColumn('name', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('role', 'text')
    .addColumn('location', 'text')
    .addColumn('external_id', 'text')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(
          sql`status in ('pending', 'created', 'updated', 'unchanged', 'skipped', 'failed', 'deactivated')`,
        ),
    )
    .addColumn('invitation', 'text', (c) => c.check(sql`invitation in ('queued', 'not_sent')`))
    .addColumn('invitation_id', 'uuid')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('user_id', 'uuid')
    .addPrimaryKeyConstraint('import_rows_pkey', ['workspace_id', 'import_id', 'idx'])
    .addForeignKeyConstraint(
      'import_rows_import_fk',
      ['workspace_id', 'import_id'],
      'imports',
      ['workspace_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await sql`create index import_rows_pending on import_rows (import_id, idx) where status = 'pending'`.execute(
    db,
  );

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('in_progress', 'done')`))
    .addColumn('fingerprint', 'text')
    .addColumn('import_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['workspace_id', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('import_rows').execute();
  await db.schema.dropTable('imports').execute();
}
