import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Reverting an import: a revert is an import of kind 'revert' (revert_of names the original, which gets
// reverted_by); its rows can be 'deleted', counted in `deleted`. Each row keeps the user's version the
// run left (user_version): a revert leaves alone a user whose version has moved since.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table imports
    add column kind text not null default 'import' check (kind in ('import', 'revert')),
    add column revert_of uuid,
    add column reverted_by uuid,
    add column deleted integer not null default 0`.execute(db);
  // At most one revert that is not a dry run per import, whatever races.
  await sql`create unique index imports_one_revert on imports (workspace_id, revert_of)
    where kind = 'revert' and not dry_run`.execute(db);
  await sql`alter table import_rows add column user_version integer`.execute(db);
  await sql`alter table import_rows drop constraint import_rows_status_check,
    add constraint import_rows_status_check
    check (status in ('pending', 'created', 'updated', 'unchanged', 'skipped', 'failed', 'deactivated', 'deleted'))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from import_rows r using imports i
    where i.workspace_id = r.workspace_id and i.id = r.import_id and i.kind = 'revert'`.execute(db);
  await sql`delete from imports where kind = 'revert'`.execute(db);
  await sql`alter table import_rows drop constraint import_rows_status_check,
    add constraint import_rows_status_check
    check (status in ('pending', 'created', 'updated', 'unchanged', 'skipped', 'failed', 'deactivated'))`.execute(
    db,
  );
  await sql`alter table import_rows drop column user_version`.execute(db);
  await sql`drop index imports_one_revert`.execute(db);
  await sql`alter table imports drop column kind, drop column revert_of, drop column reverted_by,
    drop column deleted`.execute(db);
}
