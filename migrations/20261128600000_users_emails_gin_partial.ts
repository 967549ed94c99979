import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// users_emails_lower_gin only for users that have typed e-mails: a CSV or REST user has `emails = '[]'`
// and no element a SCIM `emails.value eq` filter could match, yet gave the index an entry (and an
// evaluation of lower(emails::text)::jsonb) on every insert. The filter states `emails <> '[]'::jsonb`
// next to the containment test, so the planner still proves this predicate and uses the index.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_emails_lower_gin`.execute(db);
  await sql`create index users_emails_lower_gin on users
    using gin ((lower(emails::text)::jsonb) jsonb_path_ops) where deleted_at is null and emails <> '[]'::jsonb`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_emails_lower_gin`.execute(db);
  await sql`create index users_emails_lower_gin on users
    using gin ((lower(emails::text)::jsonb) jsonb_path_ops) where deleted_at is null`.execute(db);
}
