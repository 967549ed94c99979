import type { Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// SCIM Groups are roles. A group has an ETag (version, bumped by a rename or a membership change) and
// the identity provider's externalId. Memberships already have their table (group_memberships, keyed
// (workspace_id, role_id, user_id), with an index on (workspace_id, user_id) for a user's groups).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('roles')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('external_id', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('roles').dropColumn('external_id').dropColumn('version').execute();
}
