import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Keys are UUIDv7 (time-ordered, so B-tree inserts stay at the right edge). Postgres 15 has no uuidv7(),
// so the database gets one for defaults; the service generates its own for batches.
// Tenant tables are keyed (workspace_id, id) and reference each other with composite foreign keys, so a
// row can never point at another workspace's role, location or user.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function uuidv7() returns uuid language sql volatile as $$
      select encode(
        set_bit(set_bit(
          overlay(uuid_send(gen_random_uuid())
                  placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                  from 1 for 6),
          52, 1), 53, 1), 'hex')::uuid
    $$`.execute(db);

  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`uuidv7()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('rank', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('roles_pkey', ['workspace_id', 'id'])
    .addUniqueConstraint('roles_name_key_unique', ['workspace_id', 'name_key'])
    .execute();

  await db.schema
    .createTable('locations')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('locations_pkey', ['workspace_id', 'id'])
    .addUniqueConstraint('locations_name_key_unique', ['workspace_id', 'name_key'])
    .execute();

  await db.schema
    .createTable('workspace_settings')
    .addColumn('workspace_id', 'uuid', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('default_role_id', 'uuid', (c) => c.notNull())
    .addColumn('invitation_ttl_hours', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(168)
        .check(sql`invitation_ttl_hours between 1 and 8760`),
    )
    .addColumn('scim_send_invites', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('sync_threshold_percent', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(10)
        .check(sql`sync_threshold_percent between 0 and 100`),
    )
    .addColumn('sync_threshold_min', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(10)
        .check(sql`sync_threshold_min >= 0`),
    )
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint(
      'workspace_settings_default_role_fk',
      ['workspace_id', 'default_role_id'],
      'roles',
      ['workspace_id', 'id'],
    )
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_name_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('display_name', 'text')
    // direct_role_id: the role set by REST, CSV or SCIM attributes; role_id: the effective role
    // (highest-ranked group role, else the direct role), kept by the provisioning engine.
    .addColumn('direct_role_id', 'uuid', (c) => c.notNull())
    .addColumn('role_id', 'uuid', (c) => c.notNull())
    .addColumn('location_id', 'uuid')
    .addColumn('external_id', 'text')
    .addColumn('managed_by', 'text', (c) => c.check(sql`managed_by in ('scim')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('invited', 'active', 'deactivated')`),
    )
    .addColumn('emails', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('attributes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('activated_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .addPrimaryKeyConstraint('users_pkey', ['workspace_id', 'id'])
    .addForeignKeyConstraint('users_role_fk', ['workspace_id', 'role_id'], 'roles', ['workspace_id', 'id'])
    .addForeignKeyConstraint('users_direct_role_fk', ['workspace_id', 'direct_role_id'], 'roles', [
      'workspace_id',
      'id',
    ])
    .addForeignKeyConstraint('users_location_fk', ['workspace_id', 'location_id'], 'locations', [
      'workspace_id',
      'id',
    ])
    .execute();
  await sql`create unique index users_email_key_unique on users (workspace_id, email_key) where deleted_at is null`.execute(
    db,
  );
  await sql`create unique index users_user_name_key_unique on users (workspace_id, user_name_key) where deleted_at is null`.execute(
    db,
  );
  await sql`create unique index users_external_id_unique on users (workspace_id, external_id) where external_id is not null and deleted_at is null`.execute(
    db,
  );

  await db.schema
    .createTable('group_memberships')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('role_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('group_memberships_pkey', ['workspace_id', 'role_id', 'user_id'])
    .addForeignKeyConstraint(
      'group_memberships_role_fk',
      ['workspace_id', 'role_id'],
      'roles',
      ['workspace_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'group_memberships_user_fk',
      ['workspace_id', 'user_id'],
      'users',
      ['workspace_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('group_memberships_user_idx')
    .on('group_memberships')
    .columns(['workspace_id', 'user_id'])
    .execute();

  // An invitation is also its own outbox entry: send_state 'queued' rows (under a partial index) are what
  // the e-mail drain still has to send, written in the same transaction as the user.
  await db.schema
    .createTable('invitations')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('token_hash', 'bytea', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'accepted', 'revoked')`),
    )
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('send_state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(sql`send_state in ('queued', 'sending', 'sent', 'failed', 'not_sent')`),
    )
    .addColumn('send_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sending_since', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('invitations_pkey', ['workspace_id', 'id'])
    .addUniqueConstraint('invitations_token_hash_unique', ['token_hash'])
    .addForeignKeyConstraint(
      'invitations_user_fk',
      ['workspace_id', 'user_id'],
      'users',
      ['workspace_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await sql`create unique index invitations_one_open_per_user on invitations (workspace_id, user_id) where status = 'pending'`.execute(
    db,
  );
  await sql`create index invitations_outbox on invitations (workspace_id, id) where send_state in ('queued', 'sending')`.execute(
    db,
  );

  await db.schema
    .createTable('audit_events')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`uuidv7()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'uuid')
    .addColumn('user_id', 'uuid')
    .addColumn('changes', 'jsonb')
    .addColumn('details', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('audit_events_pkey', ['workspace_id', 'id'])
    .execute();
  await sql`create index audit_events_user_idx on audit_events (workspace_id, user_id, id) where user_id is not null`.execute(
    db,
  );

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`uuidv7()`))
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('prefix', 'text', (c) => c.notNull().unique())
    .addColumn('token_hash', 'bytea', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'api_tokens',
    'audit_events',
    'invitations',
    'group_memberships',
    'users',
    'workspace_settings',
    'locations',
    'roles',
    'workspaces',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop function uuidv7()`.execute(db);
}
