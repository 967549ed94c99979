import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// service_secrets: keys the service derives invitation tokens from (so only token hashes are stored,
// yet the e-mail drain can rebuild a link). invitation_resends: bulk re-invitation requests, kept in
// Postgres so that the sweeper can re-enqueue one that Redis lost.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('service_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('invitation_resends')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(sql`status in ('queued', 'processing', 'completed', 'failed')`),
    )
    .addColumn('invitation_status', 'text', (c) =>
      c.notNull().check(sql`invitation_status in ('pending', 'expired')`),
    )
    .addColumn('older_than_days', 'integer')
    .addColumn('matched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('invitation_resends_pkey', ['workspace_id', 'id'])
    .execute();

  // Lists and filters of users page by (workspace_id, id); the primary key serves them.
  // The drain finds workspaces with unsent invitations through the partial outbox index.
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('invitation_resends').execute();
  await db.schema.dropTable('service_secrets').execute();
}
