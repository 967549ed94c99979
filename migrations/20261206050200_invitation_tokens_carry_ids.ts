import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Invitation tokens now carry their invitation's ids and a MAC (src/provisioning/invitation-tokens.ts):
// acceptance looks the invitation up by primary key, and nothing of the token is stored. token_hash
// stays for invitations made before this form, whose links are already in people's mailboxes: their
// hashes keep a unique index of their own, which new invitations (token_hash null) never touch.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table invitations alter column token_hash drop not null`.execute(db);
  await sql`alter table invitations drop constraint invitations_token_hash_unique`.execute(db);
  await sql`create unique index invitations_token_hash_legacy on invitations (token_hash) where token_hash is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  // Invitations made without a hash cannot get one back (no key here): they are revoked, and their
  // users can be re-invited.
  await sql`update invitations set status = 'revoked', revoked_at = now(), send_state = 'not_sent',
              token_hash = sha256(id::text::bytea) where token_hash is null`.execute(db);
  await sql`drop index invitations_token_hash_legacy`.execute(db);
  await sql`alter table invitations alter column token_hash set not null`.execute(db);
  await sql`alter table invitations add constraint invitations_token_hash_unique unique (token_hash)`.execute(
    db,
  );
}
