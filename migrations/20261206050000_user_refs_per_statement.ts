import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// A user's references (workspace, effective role, direct role, location), and an invitation's user,
// are checked once per statement instead of once per row: five foreign keys cost five index probes and
// five trigger calls for every user a batch invites. Statement-level triggers with transition tables check the distinct
// keys a statement wrote, locking each referenced row FOR KEY SHARE as a foreign key would, and raise
// foreign_key_violation (23503) naming the constraint the foreign key had. Guards on roles, locations
// and workspaces keep the other side: a row users still reference is neither deleted nor re-keyed,
// and a workspace's deletion deletes its users first, as the foreign key's cascade did.
//
// Why this is as safe as the foreign keys under concurrency (READ COMMITTED): a writer of users locks
// the referenced rows at the end of its statement; a delete of one of them either comes first (the
// writer then waits for it and finds the row gone, and fails) or waits for the writer's commit, and its
// guard, a new statement with a new snapshot, then sees the writer's users and fails.

type Ref = readonly [name: string, table: string, columns: readonly string[], from?: string];

const REFS: readonly Ref[] = [
  // constraint name the foreign key had, referenced table, key columns in users
  ['users_workspace_id_fkey', 'workspaces', ['workspace_id']],
  ['users_role_fk', 'roles', ['workspace_id', 'role_id']],
  ['users_direct_role_fk', 'roles', ['workspace_id', 'direct_role_id']],
  ['users_location_fk', 'locations', ['workspace_id', 'location_id']],
];
/** An invitation's user, inserted in the same batch: the same check, from invitations. */
const INVITATION_USER: Ref = ['invitations_user_fk', 'users', ['workspace_id', 'user_id'], 'invitations'];
/** A journal entry's workspace: one per change, so a batch writes as many as users. */
const AUDIT_WORKSPACE: Ref = [
  'audit_events_workspace_id_fkey',
  'workspaces',
  ['workspace_id'],
  'audit_events',
];

/** The PL/pgSQL that checks (and locks) every distinct key of one reference among `rows`. */
function checkRef([name, table, columns, from = 'users']: Ref, rows: string): string {
  const target = table === 'workspaces' ? ['id'] : ['workspace_id', 'id'];
  const wanted = columns.map((c, i) => `${c} as k${i}`).join(', ');
  const notNull = columns.map((c) => `${c} is not null`).join(' and ');
  const probe = target.map((t, i) => `t.${t} = w.k${i}`).join(' and ');
  // One primary-key probe per distinct key (a LATERAL fenced by OFFSET 0 is never flattened): the
  // transition table has no statistics, and a join the planner picked itself once walked every user of
  // the workspace for each batch's invitations. LIMIT 1 stops at the first missing key, which fails the
  // statement; when none is missing every key has been probed, and its row locked.
  return `
    select ${columns.map((_, i) => `w.k${i}::text`).join(` || ', ' || `)} into missing
    from (select distinct ${wanted} from ${rows} where ${notNull}) w
    left join lateral (select 1 as hit from ${table} t where ${probe} offset 0 for key share of t) l on true
    where l.hit is null limit 1;
    if missing is not null then
      raise foreign_key_violation using
        message = 'insert or update on table "${from}" violates foreign key constraint "${name}"',
        detail = format('Key (${columns.join(', ')})=(%s) is not present in table "${table}".', missing),
        constraint = '${name}', table = '${from}';
    end if;`;
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    create function users_refs_inserted() returns trigger language plpgsql as $$
    declare missing text;
    begin
      ${REFS.map((r) => checkRef(r, 'new_rows')).join('\n')}
      return null;
    end $$;

    -- Updates check only the rows whose references changed (the foreign keys skipped the others too).
    create function users_refs_updated() returns trigger language plpgsql as $$
    declare missing text;
    begin
      ${REFS.map((r) => {
        const changed = r[2].map((c) => `n.${c} is distinct from o.${c}`).join(' or ');
        return checkRef(
          r,
          `(select n.* from new_rows n join old_rows o on o.id = n.id
             where ${changed}) c`,
        );
      }).join('\n')}
      return null;
    end $$;

    create trigger users_refs_inserted after insert on users
      referencing new table as new_rows for each statement execute function users_refs_inserted();
    create trigger users_refs_updated after update on users
      referencing old table as old_rows new table as new_rows for each statement execute function users_refs_updated();

    -- The referenced side: no delete or re-key of a row users still reference. Row triggers: deletes and
    -- re-keys are rare, and a re-key trigger runs only when the key changes (a role's version bump, on
    -- every membership change of its group, does not call it).
    create function users_referenced_guard() returns trigger language plpgsql as $$
    begin
      if (TG_TABLE_NAME = 'roles' and exists (
            select 1 from users u where u.workspace_id = old.workspace_id and (u.role_id = old.id or u.direct_role_id = old.id)))
         or (TG_TABLE_NAME = 'locations' and exists (
            select 1 from users u where u.workspace_id = old.workspace_id and u.location_id = old.id)) then
        raise foreign_key_violation using
          message = format('update or delete on table "%s" violates foreign key constraint "%s" on table "users"',
                           TG_TABLE_NAME, case when TG_TABLE_NAME = 'roles' then 'users_role_fk' else 'users_location_fk' end),
          detail = format('Key (workspace_id, id)=(%s, %s) is still referenced from table "users".', old.workspace_id, old.id),
          table = TG_TABLE_NAME;
      end if;
      return null;
    end $$;

    create trigger roles_deleted_guard after delete on roles
      for each row execute function users_referenced_guard();
    create trigger roles_rekeyed_guard after update of id, workspace_id on roles for each row
      when (old.id is distinct from new.id or old.workspace_id is distinct from new.workspace_id)
      execute function users_referenced_guard();
    create trigger locations_deleted_guard after delete on locations
      for each row execute function users_referenced_guard();
    create trigger locations_rekeyed_guard after update of id, workspace_id on locations for each row
      when (old.id is distinct from new.id or old.workspace_id is distinct from new.workspace_id)
      execute function users_referenced_guard();

    -- Invitations: their user is checked per statement on insert; an update never moves an invitation
    -- to another user; a user's hard deletion (only a workspace's deletion does that) takes its
    -- invitations along, as the foreign key's cascade did.
    create function invitations_user_inserted() returns trigger language plpgsql as $$
    declare missing text;
    begin
      ${checkRef(INVITATION_USER, 'new_rows')}
      return null;
    end $$;
    create trigger invitations_user_inserted after insert on invitations
      referencing new table as new_rows for each statement execute function invitations_user_inserted();
    create function refuse_rekey() returns trigger language plpgsql as $$
    begin
      raise foreign_key_violation using
        message = format('a row of "%s" does not move to another workspace or user (its references are checked on insert only)', TG_TABLE_NAME),
        table = TG_TABLE_NAME;
    end $$;
    create trigger invitations_user_moved before update of workspace_id, user_id on invitations for each row
      when (old.workspace_id is distinct from new.workspace_id or old.user_id is distinct from new.user_id)
      execute function refuse_rekey();
    create function users_invitations_cascade() returns trigger language plpgsql as $$
    begin
      delete from invitations i using old_rows o where i.workspace_id = o.workspace_id and i.user_id = o.id;
      return null;
    end $$;
    create trigger users_invitations_cascade after delete on users
      referencing old table as old_rows for each statement execute function users_invitations_cascade();
    create trigger users_rekeyed_guard before update of id, workspace_id on users for each row
      when (old.id is distinct from new.id or old.workspace_id is distinct from new.workspace_id)
      execute function refuse_rekey();
    alter table invitations drop constraint invitations_user_fk;

    -- Journal entries: their workspace is checked per statement; they go with their workspace.
    create function audit_events_workspace_inserted() returns trigger language plpgsql as $$
    declare missing text;
    begin
      ${checkRef(AUDIT_WORKSPACE, 'new_rows')}
      return null;
    end $$;
    create trigger audit_events_workspace_inserted after insert on audit_events
      referencing new table as new_rows for each statement execute function audit_events_workspace_inserted();
    create trigger audit_events_workspace_moved before update of workspace_id on audit_events for each row
      when (old.workspace_id is distinct from new.workspace_id) execute function refuse_rekey();
    alter table audit_events drop constraint audit_events_workspace_id_fkey;

    -- A workspace's users go with it (the cascade of users_workspace_id_fkey); its id never changes.
    create function workspace_users_cascade() returns trigger language plpgsql as $$
    begin
      if TG_OP = 'UPDATE' then
        if new.id is distinct from old.id and exists (select 1 from users where workspace_id = old.id) then
          raise foreign_key_violation using
            message = 'update or delete on table "workspaces" violates foreign key constraint "users_workspace_id_fkey" on table "users"',
            table = 'workspaces';
        end if;
        return new;
      end if;
      delete from users where workspace_id = old.id;
      delete from audit_events where workspace_id = old.id;
      return old;
    end $$;
    create trigger workspaces_users_cascade before delete or update of id on workspaces
      for each row execute function workspace_users_cascade();

    alter table users drop constraint users_workspace_id_fkey, drop constraint users_role_fk,
      drop constraint users_direct_role_fk, drop constraint users_location_fk;
  `,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    drop trigger users_refs_inserted on users;
    drop trigger users_refs_updated on users;
    drop trigger roles_deleted_guard on roles;
    drop trigger roles_rekeyed_guard on roles;
    drop trigger locations_deleted_guard on locations;
    drop trigger locations_rekeyed_guard on locations;
    drop trigger workspaces_users_cascade on workspaces;
    drop function users_refs_inserted();
    drop function users_refs_updated();
    drop function users_referenced_guard();
    drop function workspace_users_cascade();
    drop trigger audit_events_workspace_inserted on audit_events;
    drop trigger audit_events_workspace_moved on audit_events;
    drop function audit_events_workspace_inserted();
    alter table audit_events add constraint audit_events_workspace_id_fkey foreign key (workspace_id)
      references workspaces (id) on delete cascade;
    drop trigger invitations_user_inserted on invitations;
    drop trigger invitations_user_moved on invitations;
    drop trigger users_invitations_cascade on users;
    drop trigger users_rekeyed_guard on users;
    drop function invitations_user_inserted();
    drop function refuse_rekey();
    drop function users_invitations_cascade();
    alter table invitations add constraint invitations_user_fk foreign key (workspace_id, user_id)
      references users (workspace_id, id) on delete cascade;
    alter table users
      add constraint users_workspace_id_fkey foreign key (workspace_id) references workspaces (id) on delete cascade,
      add constraint users_role_fk foreign key (workspace_id, role_id) references roles (workspace_id, id),
      add constraint users_direct_role_fk foreign key (workspace_id, direct_role_id) references roles (workspace_id, id),
      add constraint users_location_fk foreign key (workspace_id, location_id) references locations (workspace_id, id);
  `,
    )
    .execute(db);
}
