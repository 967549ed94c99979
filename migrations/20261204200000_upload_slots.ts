import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// upload_slots: the uploads each workspace has being read or staged, across every API process (one
// row per upload in hand, removed when it is answered). A holder renews `renewed_at` while it lives; a
// row not renewed for a while belonged to a process that died and no longer counts.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('upload_slots')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull())
    .addColumn('taken_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('renewed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('upload_slots_pkey', ['workspace_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('upload_slots').execute();
}
