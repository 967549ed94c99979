import { describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeRole, makeWorkspace } from './support/factories.js';
import { allRows, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '2' });
// No worker at first: the first test looks at a queued import before starting one.
const workers = useTestWorkers(ctx, { start: 'on-demand' });

describe('cancel', () => {
  it('cancels a queued import at once, and a running one at the next batch boundary', async () => {
    const ws = await makeWorkspace(ctx.db);
    // No worker yet: the import stays queued.
    const queued = await upload(ctx.app, ws.token, 'email,name\nq1@example.com,Q\n');
    const cancelled = await call(ctx.app, 'POST', `/v1/imports/${queued.body.id}/cancel`, {
      token: ws.token,
    });
    expect(cancelled.body.status).toBe('cancelled');
    expect((await allRows(ctx.app, ws.token, queued.body.id)).map((r) => r.status)).toEqual(['pending']);

    const csv = `email,name\n${Array.from({ length: 400 }, (_, i) => `c${i}@example.com,C ${i}`).join('\n')}\n`;
    const big = await upload(ctx.app, ws.token, csv);
    await workers.start();
    for (;;) {
      const now = await call(ctx.app, 'GET', `/v1/imports/${big.body.id}`, { token: ws.token });
      if (now.body.processedRows > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(
      (await call(ctx.app, 'POST', `/v1/imports/${big.body.id}/cancel`, { token: ws.token })).status,
    ).toBe(200);
    const done = await waitForImport(ctx.app, ws.token, big.body.id);
    expect(done.status).toBe('cancelled');
    expect(done.processedRows).toBeLessThan(400);
    expect(done.processedRows % 2).toBe(0);
    const pending = await allRows(ctx.app, ws.token, big.body.id, 'pending');
    expect(pending.length).toBe(400 - done.processedRows);
    expect(
      (await call(ctx.app, 'POST', `/v1/imports/${big.body.id}/cancel`, { token: ws.token })).body.error.code,
    ).toBe('import_not_cancellable');

    // Retry finishes what the cancel left pending, under the same id.
    const retried = await call(ctx.app, 'POST', `/v1/imports/${big.body.id}/retry`, { token: ws.token });
    expect(retried.status).toBe(202);
    expect(retried.body.id).toBe(big.body.id);
    const finished = await waitForImport(ctx.app, ws.token, big.body.id);
    expect(finished).toMatchObject({ status: 'completed', processedRows: 400, counts: { created: 400 } });
  });
});

describe('retry', () => {
  it('re-runs failed rows (not in-file duplicates) once their cause is fixed', async () => {
    await workers.start();
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'] });
    const csv =
      'email,name,role\nr1@example.com,R1,Sales\nr2@example.com,R2,Admin\nR1@example.com,R1 again,Admin\n';
    const first = await waitForImport(ctx.app, ws.token, (await upload(ctx.app, ws.token, csv)).body.id);
    expect(first.status).toBe('completed_with_errors');
    expect((await call(ctx.app, 'POST', `/v1/imports/${first.id}/retry`, { token: ws.token })).status).toBe(
      202,
    );
    expect((await waitForImport(ctx.app, ws.token, first.id)).status).toBe('completed_with_errors');
    await makeRole(ctx.app, ws.token, 'Sales');
    await call(ctx.app, 'POST', `/v1/imports/${first.id}/retry`, { token: ws.token });
    const fixed = await waitForImport(ctx.app, ws.token, first.id);
    const rows = await allRows(ctx.app, ws.token, first.id);
    expect(rows.map((r) => [r.row, r.status, r.errorCode])).toEqual([
      [2, 'created', null],
      [3, 'created', null],
      [4, 'failed', 'duplicate_in_file'],
    ]);
    expect(fixed.counts).toMatchObject({ created: 2, failed: 1 });
    const done = await waitForImport(
      ctx.app,
      ws.token,
      (await upload(ctx.app, ws.token, 'email,name\nz@example.com,Z\n')).body.id,
    );
    const notRetryable = await call(ctx.app, 'POST', `/v1/imports/${done.id}/retry`, { token: ws.token });
    expect(notRetryable.status).toBe(409);
    expect(notRetryable.body.error.code).toBe('import_not_retryable');
  });
});

describe('GET /v1/imports', () => {
  it('lists imports newest first with cursor pages', async () => {
    const ws = await makeWorkspace(ctx.db);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await upload(ctx.app, ws.token, `email,name\nl${i}@example.com,L\n`)).body.id);
    const page1 = await call(ctx.app, 'GET', '/v1/imports?limit=2', { token: ws.token });
    const page2 = await call(ctx.app, 'GET', `/v1/imports?limit=2&cursor=${page1.body.nextCursor}`, {
      token: ws.token,
    });
    expect([...page1.body.data, ...page2.body.data].map((i: { id: string }) => i.id)).toEqual(ids.reverse());
    expect(
      (await call(ctx.app, 'GET', `/v1/imports/${ids[0]}/rows?status=bogus`, { token: ws.token })).status,
    ).toBe(400);
  });
});
