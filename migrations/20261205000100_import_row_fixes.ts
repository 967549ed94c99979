import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// A failed row corrected in the app (PATCH /v1/imports/:id/rows/:row) keeps what it was corrected from:
// { field: { from, to } }, `from` being the value the file gave before the first correction.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table import_rows add column fixes jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table import_rows drop column fixes`.execute(db);
}
