import { describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '50', WORKER_CONCURRENCY: '1' });
useTestWorkers(ctx);

describe('fairness between imports', () => {
  it('finishes a small import of another workspace while a large one is still running', async () => {
    const big = await makeWorkspace(ctx.db);
    const small = await makeWorkspace(ctx.db);
    const bigCsv = `email,name\n${Array.from({ length: 6000 }, (_, i) => `b${i}@example.com,B ${i}`).join('\n')}\n`;
    const bigImport = await upload(ctx.app, big.token, bigCsv);
    for (;;) {
      const now = await call(ctx.app, 'GET', `/v1/imports/${bigImport.body.id}`, { token: big.token });
      if (now.body.processedRows > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const smallImport = await upload(
      ctx.app,
      small.token,
      'email,name\ns1@example.com,S\ns2@example.com,S\n',
    );
    const smallDone = await waitForImport(ctx.app, small.token, smallImport.body.id);
    expect(smallDone.status).toBe('completed');
    const bigNow = await call(ctx.app, 'GET', `/v1/imports/${bigImport.body.id}`, { token: big.token });
    expect(bigNow.body.status).toBe('processing');
    expect(bigNow.body.processedRows).toBeLessThan(6000);
    const bigDone = await waitForImport(ctx.app, big.token, bigImport.body.id, 120_000);
    expect(bigDone).toMatchObject({ status: 'completed', counts: { created: 6000 } });
  }, 150_000);
});
