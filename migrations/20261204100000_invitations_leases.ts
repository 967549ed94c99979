import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// The e-mail drain leases rows for 30 seconds and renews the lease while its worker lives; each slice
// first takes back its workspace's expired leases. This index holds only the leased rows (a few
// slices' worth), so that look-up costs nothing however many rows are queued.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index invitations_leased on invitations (workspace_id, sending_since) where send_state = 'sending'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists invitations_leased`.execute(db);
}
