import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../src/db/index.js';
import { ensureDatabase, migrateDown, migrateToLatest } from '../src/db/migrate.js';
import { adminQuery, databaseUrl, dropDatabase, uniqueName } from './support/databases.js';

const tables = async (db: Db): Promise<string[]> => {
  const { rows } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = 'public' and tablename not like 'kysely_%' order by 1`.execute(
    db,
  );
  return rows.map((r) => r.tablename);
};

describe('migrations', () => {
  const name = uniqueName();
  let db: Db;

  beforeAll(async () => {
    expect(await ensureDatabase(databaseUrl(name))).toBe(true);
    db = createDb(databaseUrl(name), { max: 4 });
  });
  afterAll(async () => {
    await db.destroy();
    await dropDatabase(name);
  });

  it('creates the database when it is missing, and only once', async () => {
    const { rows } = await adminQuery('select 1 from pg_database where datname = $1', [name]);
    expect(rows).toHaveLength(1);
    expect(await ensureDatabase(databaseUrl(name))).toBe(false);
  });

  it('migrates up, down and up again', async () => {
    const applied = await migrateToLatest(db);
    expect(applied.length).toBeGreaterThan(0);
    expect(await tables(db)).toEqual(
      expect.arrayContaining([
        'api_tokens',
        'audit_events',
        'group_memberships',
        'invitations',
        'locations',
        'roles',
        'users',
        'workspace_settings',
        'workspaces',
      ]),
    );
    for (let i = 0; i < applied.length; i++) await migrateDown(db);
    expect(await tables(db)).toEqual([]);
    expect(await migrateToLatest(db)).toEqual(applied);
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('lets processes migrate at the same time: one applies, the others find nothing to do', async () => {
    const fresh = uniqueName();
    await ensureDatabase(databaseUrl(fresh));
    const handles = [0, 1, 2].map(() => createDb(databaseUrl(fresh), { max: 1 }));
    try {
      const results = await Promise.all(handles.map((h) => migrateToLatest(h)));
      expect(results.filter((r) => r.length > 0)).toHaveLength(1);
    } finally {
      await Promise.all(handles.map((h) => h.destroy()));
      await dropDatabase(fresh);
    }
  });

  it('generates time-ordered UUIDv7 keys in the database', async () => {
    const { rows } = await sql<{
      a: string;
      b: string;
    }>`select uuidv7()::text as a, uuidv7()::text as b`.execute(db);
    const [row] = rows;
    expect(row!.a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row!.a.slice(0, 8) <= row!.b.slice(0, 8)).toBe(true);
  });

  it('keeps e-mails unique per workspace among users not deleted', async () => {
    const ws = '01900000-0000-7000-8000-000000000001';
    const role = '01900000-0000-7000-8000-000000000002';
    await sql`insert into workspaces (id, name) values (${ws}, 'W')`.execute(db);
    await sql`insert into roles (workspace_id, id, name, name_key) values (${ws}, ${role}, 'R', 'r')`.execute(
      db,
    );
    const insert = (email: string) =>
      sql`insert into users (workspace_id, user_name, user_name_key, email, email_key, direct_role_id, role_id, status)
          values (${ws}, ${email}, ${email.toLowerCase()}, ${email}, ${email.toLowerCase()}, ${role}, ${role}, 'invited')`.execute(
        db,
      );
    await insert('Ann@Example.com');
    await expect(insert('ann@example.com')).rejects.toMatchObject({ code: '23505' });
    await sql`update users set deleted_at = now() where workspace_id = ${ws}`.execute(db);
    await expect(insert('ann@example.com')).resolves.toBeDefined();
  });
});
