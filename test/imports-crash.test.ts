import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Config } from '../src/config.js';
import { createDb, type Db } from '../src/db/index.js';
import { testConfig } from './support/context.js';
import { cloneTemplate, databaseUrl, dropDatabase } from './support/databases.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';
import { startServer, waitFor } from './support/processes.js';

let name: string;
let config: Config;
let db: Db;
let app: FastifyInstance;
const children: ReturnType<typeof startServer>[] = [];

beforeAll(async () => {
  name = await cloneTemplate();
  config = testConfig(name);
  db = createDb(config.databaseUrl, { max: 4 });
  app = await buildApp({ config, db, logger: false });
});
afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await app?.close();
  await db?.destroy();
  if (name) await dropDatabase(name);
});

const worker = () => {
  const child = startServer({
    ROLE: 'worker',
    DATABASE_URL: databaseUrl(name),
    QUEUE_PREFIX: config.queuePrefix,
    BATCH_SIZE: '50',
    LOG_LEVEL: 'warn',
  });
  children.push(child);
  return child;
};

const count = async (query: ReturnType<typeof sql<{ n: number }>>) => (await query.execute(db)).rows[0]!.n;

describe('a worker killed in the middle of an import', () => {
  it('loses nothing and duplicates nothing: every row reported once, one user and one invitation each', async () => {
    const ws = await makeWorkspace(db);
    const csv = `email,name\n${Array.from({ length: 3000 }, (_, i) => `k${i}@example.com,K ${i}`).join('\n')}\n`;
    const first = worker();
    const res = await upload(app, ws.token, csv);
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await waitFor(async () => {
      const row = await db
        .selectFrom('imports')
        .select('processed_rows')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return row.processed_rows >= 300;
    }, 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const processedAtKill = (
      await db.selectFrom('imports').select('processed_rows').where('id', '=', id).executeTakeFirstOrThrow()
    ).processed_rows;
    expect(processedAtKill).toBeLessThan(3000);

    worker();
    const done = await waitForImport(app, ws.token, id, 90_000);
    expect(done).toMatchObject({
      status: 'completed',
      processedRows: 3000,
      counts: { created: 3000, failed: 0, invited: 3000 },
    });
    const w = ws.workspaceId;
    expect(
      await count(
        sql<{
          n: number;
        }>`select count(*)::int as n from import_rows where import_id = ${id} and status = 'created'`,
      ),
    ).toBe(3000);
    expect(
      await count(sql<{ n: number }>`select count(*)::int as n from users where workspace_id = ${w}`),
    ).toBe(3000);
    expect(
      await count(
        sql<{ n: number }>`select count(distinct user_id)::int as n from import_rows where import_id = ${id}`,
      ),
    ).toBe(3000);
    expect(
      await count(sql<{ n: number }>`select count(*)::int as n from invitations where workspace_id = ${w}`),
    ).toBe(3000);
  }, 150_000);
});
