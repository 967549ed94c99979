import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// SCIM `emails.value eq "x"` (and emails[value eq "x" ...]) matches any element of users.emails,
// ignoring case: the filter asks `lower(emails::text)::jsonb @> '[{"value": "x"}]'`, which this
// GIN index answers without reading the workspace's users. userName eq and externalId eq already
// have their unique indexes, and the primary e-mail has users_email_key_unique.
// Deliberately not indexed: (workspace_id, updated_at) for meta.lastModified. updated_at changes on
// every write, so indexing it would end heap-only (HOT) updates for every bulk update; the filter
// still runs in SQL, over one workspace, through the primary key.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index users_emails_lower_gin on users
    using gin ((lower(emails::text)::jsonb) jsonb_path_ops) where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_emails_lower_gin`.execute(db);
}
