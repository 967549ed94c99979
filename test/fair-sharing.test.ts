import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDb } from '../src/db/index.js';
import { call, testConfig, useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload } from './support/imports.js';
import { waitFor } from './support/processes.js';

/*
 * One tenant cannot hold what every tenant shares: the API's statements are cut at
 * API_STATEMENT_TIMEOUT_MS, and a workspace has at most MAX_CONCURRENT_UPLOADS uploads staging at once,
 * across every API process.
 */
const ctx = useTestContext({ MAX_CONCURRENT_UPLOADS: '2' });
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

describe('API_STATEMENT_TIMEOUT_MS', () => {
  it('makes Postgres cancel a longer statement of the pool', async () => {
    const db = createDb(ctx.config.databaseUrl, { max: 1, statementTimeoutMs: 100 });
    try {
      await expect(sql`select pg_sleep(2)`.execute(db)).rejects.toMatchObject({ code: '57014' });
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]!.one).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('answers a cancelled statement with 503 query_timeout and Retry-After, and the API pool has it', async () => {
    const app = await buildApp({
      config: testConfig(ctx.databaseName, { API_STATEMENT_TIMEOUT_MS: '100', RATE_LIMIT_PER_MINUTE: '0' }),
      logger: false,
    });
    apps.push(app);
    app.get('/v1/slow', { config: { public: true } }, async () => {
      await sql`select pg_sleep(2)`.execute(app.db);
      return {};
    });
    await app.ready();
    const res = await call(app, 'GET', '/v1/slow');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error.code).toBe('query_timeout');
  });
});

describe('concurrent uploads of one workspace', () => {
  let ws: { workspaceId: string; token: string };
  let other: { workspaceId: string; token: string };
  /** A second API process: its own app and pool on the same database. */
  let second: FastifyInstance;
  beforeAll(async () => {
    ws = await makeWorkspace(ctx.db);
    other = await makeWorkspace(ctx.db);
    second = await buildApp({
      config: testConfig(ctx.databaseName, { MAX_CONCURRENT_UPLOADS: '2' }),
      logger: false,
    });
    apps.push(second);
    await second.ready();
  });

  /** An upload whose body arrives only when `finish` is called. */
  function slowUpload(app: FastifyInstance, token: string) {
    const body = new PassThrough();
    body.write('email,name\n');
    const answer = app.inject({
      method: 'POST',
      url: '/v1/imports?dryRun=true',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      payload: body,
    });
    return {
      answer,
      finish: () => body.end('slow@example.com,Slow\n'),
    };
  }

  const slots = async (workspaceId: string) =>
    (
      await sql<{
        n: number;
      }>`select count(*)::int as n from upload_slots where workspace_id = ${workspaceId}`.execute(ctx.db)
    ).rows[0]!.n;

  /** Slots as another API process would hold them, renewed `age` ago. */
  const holdSlots = async (workspaceId: string, n: number, age: string) => {
    for (let i = 0; i < n; i++)
      await sql`insert into upload_slots (workspace_id, id, renewed_at)
        values (${workspaceId}, gen_random_uuid(), now() - ${age}::interval)`.execute(ctx.db);
  };

  it('answers 429 too_many_uploads with Retry-After past two at once across API processes, and only for that workspace', async () => {
    const first = slowUpload(ctx.app, ws.token);
    const next = slowUpload(second, ws.token);
    await waitFor(async () => (await slots(ws.workspaceId)) === 2);
    for (const app of [ctx.app, second]) {
      const third = await upload(app, ws.token, 'email,name\nt@example.com,T\n', 'dryRun=true');
      expect(third.status).toBe(429);
      expect(third.body.error).toMatchObject({ code: 'too_many_uploads', limit: 2 });
      expect(third.headers['retry-after']).toBe('5');
    }

    const elsewhere = await upload(second, other.token, 'email,name\no@example.com,O\n', 'dryRun=true');
    expect(elsewhere.status).toBe(202);

    first.finish();
    next.finish();
    expect((await first.answer).statusCode).toBe(202);
    expect((await next.answer).statusCode).toBe(202);
    // A slot is freed before the answer: the next upload never finds it counted.
    expect(await slots(ws.workspaceId)).toBe(0);
    const after = await upload(ctx.app, ws.token, 'email,name\na@example.com,A\n', 'dryRun=true');
    expect(after.status).toBe(202);
    expect(await slots(ws.workspaceId)).toBe(0);
  });

  it('frees the slot of an upload that was refused', async () => {
    for (let i = 0; i < 3; i++) {
      const refused = await upload(ctx.app, ws.token, 'name\nNo email\n', 'dryRun=true');
      expect(refused.status).toBe(422);
    }
    expect((await upload(ctx.app, ws.token, 'email,name\nb@example.com,B\n', 'dryRun=true')).status).toBe(
      202,
    );
    expect(await slots(ws.workspaceId)).toBe(0);
  });

  it('no longer counts the slots of a process that died (not renewed for 30 seconds)', async () => {
    const crashed = await makeWorkspace(ctx.db);
    await holdSlots(crashed.workspaceId, 2, '10 seconds');
    const held = await upload(ctx.app, crashed.token, 'email,name\nc@example.com,C\n', 'dryRun=true');
    expect(held.status).toBe(429);
    await sql`update upload_slots set renewed_at = now() - interval '31 seconds'
      where workspace_id = ${crashed.workspaceId}`.execute(ctx.db);
    const lapsed = await upload(ctx.app, crashed.token, 'email,name\nc@example.com,C\n', 'dryRun=true');
    expect(lapsed.status).toBe(202);
    // The lapsed slots were removed when the upload took its own, and its own went before its answer.
    expect(await slots(crashed.workspaceId)).toBe(0);
  });

  it('takes no slot to apply a dry run', async () => {
    const full = await makeWorkspace(ctx.db);
    const dry = await upload(ctx.app, full.token, 'email,name\nd@example.com,D\n', 'dryRun=true');
    expect(dry.status).toBe(202);
    // No worker runs here: the dry run is finished by hand.
    await sql`update imports set status = 'completed', finished_at = now() where id = ${dry.body.id}`.execute(
      ctx.db,
    );
    await holdSlots(full.workspaceId, 2, '0 seconds');
    expect((await upload(ctx.app, full.token, 'email,name\ne@example.com,E\n')).status).toBe(429);
    const applied = await call(ctx.app, 'POST', `/v1/imports/${dry.body.id as string}/apply`, {
      token: full.token,
    });
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({ dryRun: false, status: 'queued' });
    expect(await slots(full.workspaceId)).toBe(2);
  });
});
