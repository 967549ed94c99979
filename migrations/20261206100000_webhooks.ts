import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Webhooks. webhook_endpoints holds a workspace's receivers: the URL, the event types they take, the
// signing secret encrypted under a key kept outside the database, the position in the events feed up to
// which events have been fanned out to them, and their health (failing since, back-off, next due).
// webhook_deliveries holds one row per event and endpoint (unique), so that a fan-out run twice
// creates nothing twice and a delivery keeps its id (and its webhook-id) through retries and crashes.
// A statement trigger on audit_events (the events outbox) notifies the workers at commit when a
// workspace with enabled endpoints has new events.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull().check(sql`char_length(url) <= 2048`))
    .addColumn('description', 'text', (c) => c.check(sql`char_length(description) <= 500`))
    .addColumn('event_types', sql`text[]`, (c) => c.notNull().check(sql`cardinality(event_types) > 0`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('disabled_reason', 'text', (c) => c.check(sql`disabled_reason in ('manual', 'failing')`))
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('secret_ciphertext', 'bytea', (c) => c.notNull())
    .addColumn('secret_key_id', 'text', (c) => c.notNull())
    .addColumn('feed_cursor', 'text')
    .addColumn('failing_since', 'timestamptz')
    .addColumn('failure_streak', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused_until', 'timestamptz')
    .addColumn('next_due_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_workspace')
    .on('webhook_endpoints')
    .columns(['workspace_id', 'id'])
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_due')
    .on('webhook_endpoints')
    .column('next_due_at')
    .where(sql.ref('next_due_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'uuid', (c) =>
      c.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'succeeded', 'failed')`),
    )
    .addColumn('manual', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_response_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('leased_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('webhook_deliveries_event', ['endpoint_id', 'event_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'next_attempt_at'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_log')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'status', 'id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_created')
    .on('webhook_deliveries')
    .column('created_at')
    .execute();

  await sql`
    create function webhooks_notify_events() returns trigger language plpgsql as $$
    begin
      perform pg_notify('loopit_webhook_events', w.workspace_id::text)
      from (select distinct workspace_id from new_events) w
      where exists (select 1 from webhook_endpoints e where e.workspace_id = w.workspace_id and e.enabled);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger audit_events_webhooks after insert on audit_events
    referencing new table as new_events
    for each statement execute function webhooks_notify_events()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists audit_events_webhooks on audit_events`.execute(db);
  await sql`drop function if exists webhooks_notify_events()`.execute(db);
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
