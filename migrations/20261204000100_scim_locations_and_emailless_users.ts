import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// - workspace_settings.scim_creates_locations: a location an identity provider sends that the workspace
//   lacks is created (default) instead of refusing the user.
// - users.email and users.email_key may be null: SCIM's User schema requires only userName, so a user
//   created over SCIM with a userName that is not an e-mail and no `emails` has no e-mail. The unique
//   index on (workspace_id, email_key) already ignores nulls.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table workspace_settings add column scim_creates_locations boolean not null default true`.execute(
    db,
  );
  await sql`alter table users alter column email drop not null, alter column email_key drop not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from users where email is null`.execute(db);
  await sql`alter table users alter column email set not null, alter column email_key set not null`.execute(
    db,
  );
  await sql`alter table workspace_settings drop column scim_creates_locations`.execute(db);
}
