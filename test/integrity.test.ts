import { sql } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';

/*
 * The references of users (workspace, role, direct role, location) and of invitations (their user) are
 * checked per statement by triggers instead of per row by foreign keys (for the bulk write path). The
 * database still refuses what the foreign keys refused, through plain SQL, whoever writes.
 */

const ctx = useTestContext();

interface Ws {
  id: string;
  role: string;
  other: string;
  location: string;
}

async function workspace(): Promise<Ws> {
  const { workspaceId } = await makeWorkspace(ctx.db, {
    roles: ['Admin', 'Agent'],
    locations: ['London'],
  });
  const roles = await sql<{ id: string; name: string }>`
    select id, name from roles where workspace_id = ${workspaceId} order by name`.execute(ctx.db);
  const location = await sql<{ id: string }>`
    select id from locations where workspace_id = ${workspaceId}`.execute(ctx.db);
  return {
    id: workspaceId,
    role: roles.rows[0]!.id,
    other: roles.rows[1]!.id,
    location: location.rows[0]!.id,
  };
}

interface NewUser {
  workspace: string;
  role: string;
  directRole?: string;
  location?: string | null;
}

const insertUser = (u: NewUser, id = newId()) => sql`
  insert into users (workspace_id, id, user_name, user_name_key, email, email_key, direct_role_id, role_id,
                     location_id, status)
  values (${u.workspace}, ${id}, ${id + '@example.com'}, ${id + '@example.com'}, ${id + '@example.com'},
          ${id + '@example.com'}, ${u.directRole ?? u.role}, ${u.role}, ${u.location ?? null}, 'invited')`;

/** The error a statement fails with: its SQLSTATE and the constraint it names. */
async function refusal(run: Promise<unknown>): Promise<{ code: string; constraint?: string }> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e as { code: string; constraint?: string },
  );
  expect(error, 'the statement must be refused').toBeDefined();
  return { code: error!.code, ...(error!.constraint ? { constraint: error!.constraint } : {}) };
}

describe('users reference rows of their own workspace', () => {
  let a: Ws;
  let b: Ws;
  beforeAll(async () => {
    a = await workspace();
    b = await workspace();
  });

  it('accepts a user whose role, direct role and location are its workspace’s', async () => {
    const id = newId();
    await insertUser(
      { workspace: a.id, role: a.role, directRole: a.other, location: a.location },
      id,
    ).execute(ctx.db);
    const row = await sql<{ role_id: string }>`select role_id from users where id = ${id}`.execute(ctx.db);
    expect(row.rows[0]?.role_id).toBe(a.role);
  });

  it.each([
    ['a role of another workspace', (): NewUser => ({ workspace: a.id, role: b.role }), 'users_role_fk'],
    [
      'a direct role of another workspace',
      (): NewUser => ({ workspace: a.id, role: a.role, directRole: b.role }),
      'users_direct_role_fk',
    ],
    [
      'a location of another workspace',
      (): NewUser => ({ workspace: a.id, role: a.role, location: b.location }),
      'users_location_fk',
    ],
    [
      'a workspace that does not exist',
      (): NewUser => ({ workspace: newId(), role: a.role }),
      'users_workspace_id_fkey',
    ],
  ])('refuses an insert naming %s, and writes nothing', async (_what, user, constraint) => {
    const before = await sql<{ n: number }>`select count(*)::int as n from users`.execute(ctx.db);
    expect(await refusal(insertUser(user()).execute(ctx.db))).toEqual({ code: '23503', constraint });
    const after = await sql<{ n: number }>`select count(*)::int as n from users`.execute(ctx.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('refuses a many-row insert when one row of it is wrong', async () => {
    const ids = [newId(), newId(), newId()];
    const roles = [a.role, a.role, b.role];
    const run = sql`
      insert into users (workspace_id, id, user_name, user_name_key, email, email_key, direct_role_id, role_id, status)
      select ${a.id}::uuid, v.id, v.id::text, v.id::text, v.id::text, v.id::text, v.role, v.role, 'invited'
      from unnest(${ids}::uuid[], ${roles}::uuid[]) as v(id, role)`.execute(ctx.db);
    expect(await refusal(run)).toEqual({ code: '23503', constraint: 'users_role_fk' });
    const left = await sql`select 1 from users where id = any(${ids}::uuid[])`.execute(ctx.db);
    expect(left.rows).toHaveLength(0);
  });

  it('refuses an update that moves a user’s role or location to another workspace’s, and allows the rest', async () => {
    const id = newId();
    await insertUser({ workspace: a.id, role: a.role }, id).execute(ctx.db);
    expect(await refusal(sql`update users set role_id = ${b.role} where id = ${id}`.execute(ctx.db))).toEqual(
      { code: '23503', constraint: 'users_role_fk' },
    );
    expect(
      await refusal(sql`update users set location_id = ${b.location} where id = ${id}`.execute(ctx.db)),
    ).toEqual({ code: '23503', constraint: 'users_location_fk' });
    await sql`update users set given_name = 'Ada', role_id = ${a.other} where id = ${id}`.execute(ctx.db);
    const row = await sql<{ given_name: string; role_id: string }>`
      select given_name, role_id from users where id = ${id}`.execute(ctx.db);
    expect(row.rows[0]).toEqual({ given_name: 'Ada', role_id: a.other });
  });

  it('refuses deleting or re-keying a role or a location users still hold; allows it once nobody does', async () => {
    const ws = await workspace();
    const id = newId();
    await insertUser(
      { workspace: ws.id, role: ws.role, directRole: ws.other, location: ws.location },
      id,
    ).execute(ctx.db);
    for (const role of [ws.role, ws.other]) {
      expect(await refusal(sql`delete from roles where id = ${role}`.execute(ctx.db))).toMatchObject({
        code: '23503',
      });
      expect(
        await refusal(sql`update roles set id = ${newId()} where id = ${role}`.execute(ctx.db)),
      ).toMatchObject({ code: '23503' });
    }
    expect(await refusal(sql`delete from locations where id = ${ws.location}`.execute(ctx.db))).toMatchObject(
      {
        code: '23503',
      },
    );
    // A rename is no re-key.
    await sql`update roles set name = 'Renamed', name_key = 'renamed' where id = ${ws.role}`.execute(ctx.db);
    await sql`update users set direct_role_id = ${ws.role}, location_id = null where id = ${id}`.execute(
      ctx.db,
    );
    await sql`delete from roles where id = ${ws.other}`.execute(ctx.db);
    await sql`delete from locations where id = ${ws.location}`.execute(ctx.db);
    const left = await sql`select 1 from roles where id = ${ws.other}`.execute(ctx.db);
    expect(left.rows).toHaveLength(0);
  });

  it('refuses an invitation for a user of another workspace and a journal entry of no workspace; a workspace’s deletion takes its users, invitations and journal', async () => {
    const ws = await workspace();
    const user = newId();
    await insertUser({ workspace: ws.id, role: ws.role }, user).execute(ctx.db);
    const invite = (workspaceId: string) => sql`
      insert into invitations (workspace_id, id, user_id, token_hash, expires_at, created_by)
      values (${workspaceId}, ${newId()}, ${user}, ${Buffer.from(newId())}, now() + interval '1 day', 'test')`;
    expect(await refusal(invite(a.id).execute(ctx.db))).toEqual({
      code: '23503',
      constraint: 'invitations_user_fk',
    });
    await invite(ws.id).execute(ctx.db);
    const journal = (workspaceId: string) => sql`
      insert into audit_events (workspace_id, id, actor, source, action, target_type)
      values (${workspaceId}, ${newId()}, 'test', 'api', 'user.updated', 'user')`;
    expect(await refusal(journal(newId()).execute(ctx.db))).toEqual({
      code: '23503',
      constraint: 'audit_events_workspace_id_fkey',
    });
    await journal(ws.id).execute(ctx.db);
    await sql`delete from workspaces where id = ${ws.id}`.execute(ctx.db);
    const left = await Promise.all(
      (['users', 'invitations', 'audit_events'] as const).map(
        async (t) =>
          (await sql`select 1 from ${sql.table(t)} where workspace_id = ${ws.id}`.execute(ctx.db)).rows
            .length,
      ),
    );
    expect(left).toEqual([0, 0, 0]);
  });
});

describe('references under concurrency', () => {
  const session = async () => {
    const client = new pg.Client({ connectionString: ctx.config.databaseUrl });
    await client.connect();
    return client;
  };

  it('a role deleted while a user naming it is being inserted: whichever goes second fails', async () => {
    // The insert first: the delete waits for it, then sees the user and fails.
    const ws = await workspace();
    const [writer, deleter] = [await session(), await session()];
    try {
      await writer.query('begin');
      const id = newId();
      const compiled = insertUser({ workspace: ws.id, role: ws.other }, id).compile(ctx.db);
      await writer.query(compiled.sql, compiled.parameters as unknown[]);
      const deleting = deleter.query('delete from roles where id = $1', [ws.other]).then(
        () => undefined,
        (e: { code: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 200));
      await writer.query('commit');
      expect(await deleting).toBe('23503');

      // The delete first: the insert waits for it, then finds the role gone and fails.
      await deleter.query('begin');
      await deleter.query('delete from users where id = $1', [id]);
      await deleter.query('delete from roles where id = $1', [ws.other]);
      const again = insertUser({ workspace: ws.id, role: ws.other }).compile(ctx.db);
      const inserting = writer.query(again.sql, again.parameters as unknown[]).then(
        () => undefined,
        (e: { code: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 200));
      await deleter.query('commit');
      expect(await inserting).toBe('23503');
      const left = await sql`select 1 from users where role_id = ${ws.other}`.execute(ctx.db);
      expect(left.rows).toHaveLength(0);
    } finally {
      await writer.end();
      await deleter.end();
    }
  });
});
