import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// A user's newest invitation (what every user read shows) and the cascade of a user's deletion need
// invitations by (workspace_id, user_id): without this index each lookup walked the workspace's
// invitations through the primary key, so listing 50 users of a large workspace took seconds. The
// partial one_open_per_user index only holds pending invitations.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index invitations_user_idx on invitations (workspace_id, user_id, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists invitations_user_idx`.execute(db);
}
