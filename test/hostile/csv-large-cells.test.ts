import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { STAGING_CHUNK } from '../../src/imports/staging.js';
import { useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { watchHealth } from '../support/hostile.js';
import { upload } from '../support/imports.js';

/*
 * A CSV inside IMPORT_MAX_BYTES whose rows are large: staging flushes by cell text as well as by rows,
 * so the API holds a few megabytes of it at a time, not the 2,000 rows of a chunk.
 */
const ctx = useTestContext();

describe('POST /v1/imports with 2,000 rows of 50 KB', { timeout: 180_000 }, () => {
  it('stages every row in chunks of a few megabytes while /healthz keeps answering', async () => {
    const ws = await makeWorkspace(ctx.db);
    const note = 'n'.repeat(50_000);
    const csv = Buffer.from(
      `email,name,note\n${Array.from({ length: 2_000 }, (_, i) => `p${i}@example.com,P ${i},${note}`).join('\n')}\n`,
    );
    expect(csv.length).toBeLessThan(ctx.config.importMaxBytes);
    expect(2_000 * 50_000).toBeGreaterThan(20 * STAGING_CHUNK.chars);

    // One chunk of 2,000 such rows, 100 MB of text turned into one insert, stalled the API for seconds.
    const health = watchHealth(ctx.app);
    const res = await upload(ctx.app, ws.token, csv);
    const slowest = await health.stop();

    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.totalRows).toBe(2_000);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from import_rows where import_id = ${res.body.id}`.execute(ctx.db);
    expect(rows[0]!.n).toBe(2_000);
    expect(slowest).toBeLessThan(1_000);
  });
});
