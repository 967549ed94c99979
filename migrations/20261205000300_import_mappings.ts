import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Column mapping. imports.mapping_sources says how each field's column was found (alias, saved or
// explicit) and imports.warnings holds what the upload noticed (a column that looks like a field but
// is read by none, the default role given to every row). import_mappings holds each workspace's saved
// choices: a header, by its normalised key, and the field a person mapped it to.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('imports')
    .addColumn('mapping_sources', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('warnings', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
  await db.schema
    .createTable('import_mappings')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('header_key', 'text', (c) => c.notNull().check(sql`header_key <> ''`))
    .addColumn('header', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) =>
      c
        .notNull()
        .check(sql`field in ('email', 'name', 'givenName', 'familyName', 'role', 'location', 'externalId')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('import_mappings_pkey', ['workspace_id', 'header_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_mappings').execute();
  await db.schema.alterTable('imports').dropColumn('warnings').dropColumn('mapping_sources').execute();
}
