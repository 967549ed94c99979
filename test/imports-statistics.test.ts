import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ANALYZE_AFTER_ROWS } from '../src/imports/lifecycle.service.js';
import { useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';

const ctx = useTestContext();
useTestWorkers(ctx);

// pg_stats is the catalog ANALYZE writes (at once, unlike the activity counters of pg_stat_user_tables).
const analyzed = async (table: string) =>
  (
    await sql<{ n: number }>`select count(*)::int as n from pg_stats where tablename = ${table}`.execute(
      ctx.db,
    )
  ).rows[0]!.n > 0;

describe('statistics after a large import', () => {
  it('a small import leaves them alone; one of ANALYZE_AFTER_ROWS users refreshes users and invitations', async () => {
    const ws = await makeWorkspace(ctx.db);
    const small = await upload(ctx.app, ws.token, 'email,name\na@example.com,A\n');
    expect((await waitForImport(ctx.app, ws.token, small.body.id)).status).toBe('completed');
    expect(await analyzed('users')).toBe(false);

    const rows = Array.from({ length: ANALYZE_AFTER_ROWS }, (_, i) => `s${i}@example.com,S ${i}`);
    const large = await upload(ctx.app, ws.token, `email,name\n${rows.join('\n')}\n`);
    const done = await waitForImport(ctx.app, ws.token, large.body.id);
    expect(done).toMatchObject({ status: 'completed', counts: { created: ANALYZE_AFTER_ROWS } });
    expect(await analyzed('users')).toBe(true);
    expect(await analyzed('invitations')).toBe(true);
    const { rows: stats } = await sql<{ n: number }>`
      select reltuples::int as n from pg_class where relname = 'users'`.execute(ctx.db);
    expect(stats[0]!.n).toBeGreaterThanOrEqual(ANALYZE_AFTER_ROWS);
  });
});
