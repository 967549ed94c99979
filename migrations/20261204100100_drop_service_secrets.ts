import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// The invitation key moves from the database to the environment (INVITATION_SECRET), so that a copy
// of the database is not enough to rebuild an invitation link. Dropping the table deletes the old key:
// links already sent keep working (accepting looks the token up by its hash), and the drain gives a
// new token to any invitation not yet sent whose link it cannot rebuild.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('service_secrets').ifExists().execute();
}

// The table comes back empty: the deleted key cannot.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('service_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
