import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Excel uploads. imports.format says what was uploaded and imports.sheet which sheet was read.
// import_workbooks holds an uploaded .xlsx, in chunks, until a worker has converted its first sheet into
// import_rows: Postgres keeps it, so any worker on any machine can convert it and a crash loses nothing.
// The chunks go in the same transaction as the rows they become, so a workbook is either waiting or
// converted. Its bytes are already compressed: stored without TOAST compression.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('imports')
    .addColumn('format', 'text', (c) =>
      c
        .notNull()
        .defaultTo('csv')
        .check(sql`format in ('csv', 'xlsx')`),
    )
    .addColumn('sheet', 'text')
    .execute();
  await db.schema
    .createTable('import_workbooks')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('import_id', 'uuid', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_workbooks_pkey', ['workspace_id', 'import_id', 'seq'])
    .addForeignKeyConstraint(
      'import_workbooks_import_fk',
      ['workspace_id', 'import_id'],
      'imports',
      ['workspace_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await sql`alter table import_workbooks alter column data set storage external`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_workbooks').execute();
  await db.schema.alterTable('imports').dropColumn('sheet').dropColumn('format').execute();
}
