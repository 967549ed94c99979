import { beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';
import { waitFor } from './support/processes.js';

const ctx = useTestContext({ BATCH_SIZE: '2', EMAIL_RATE_PER_SECOND: '1000' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
});
/** The value of one sample of the exposition text, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function scrape(): Promise<string> {
  const res = await call(ctx.app, 'GET', '/metrics', { token: OPERATOR_TOKEN });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body as string;
}

describe.each(['/metrics', '/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/x.js'])(
  'GET %s',
  (url) => {
    it('is 401 without a token and with a workspace token', async () => {
      const anonymous = await call(ctx.app, 'GET', url);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('missing_token');
      const workspace = await call(ctx.app, 'GET', url, { token: ws.token });
      expect(workspace.status).toBe(401);
      expect(workspace.body.error).toMatchObject({ code: 'invalid_token', requestId: expect.any(String) });
    });
  },
);

describe('the queue dashboard at /admin/queues', () => {
  it('serves the bull-board UI and its assets with the operator token, under the strict CSP', async () => {
    const page = await call(ctx.app, 'GET', '/admin/queues', { token: OPERATOR_TOKEN });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("base-uri 'self'");
    expect(page.body).toContain('<base href="/admin/queues/"');
    const script = /src="(static\/js\/main[^"]+)"/.exec(page.body as string)?.[1];
    expect(script).toBeDefined();
    const asset = await call(ctx.app, 'GET', `/admin/queues/${script}`, { token: OPERATOR_TOKEN });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('lists every queue of the service through its API', async () => {
    const res = await call(ctx.app, 'GET', '/admin/queues/api/queues', { token: OPERATOR_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      'email',
      'imports',
      'invitations',
      'maintenance',
      'scim',
      'webhooks',
    ]);
  });

  it('lists the routes as operator routes in the access table', () => {
    const board = ctx.app.accessTable.filter((r) => r.url.startsWith('/admin/queues'));
    expect(board.length).toBeGreaterThan(5);
    expect(board.every((r) => r.access === 'operator')).toBe(true);
    expect(ctx.app.accessTable).toContainEqual({ method: 'GET', url: '/metrics', access: 'operator' });
  });
});

describe('GET /metrics', () => {
  it('exposes process, queue, import, e-mail and SCIM metrics', async () => {
    const text = await scrape();
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'loopit_import_rows_processed_total',
      'loopit_import_batch_duration_seconds_bucket',
      'loopit_emails_sent_total',
      'loopit_webhook_attempts_total',
      'loopit_webhook_deliveries_failed_total',
      'loopit_scim_requests_total',
      'loopit_http_requests_total',
    ]) {
      expect(text).toContain(`# TYPE ${name.replace(/_bucket$/, '')} `);
    }
    expect(sample(text, 'loopit_redis_up')).toBe(1);
    expect(text).toMatch(/^loopit_queue_jobs\{queue="imports",state="waiting"\} \d+$/m);
  });

  it('moves after an import, its invitation e-mails and SCIM requests', async () => {
    const before = await scrape();
    const res = await upload(
      ctx.app,
      ws.token,
      'email,name\nm1@example.com,Em One\nm2@example.com,Em Two\nm3@example.com,Em Three\n',
    );
    expect(res.status).toBe(202);
    expect((await waitForImport(ctx.app, ws.token, res.body.id)).status).toBe('completed');
    const scim = await call(ctx.app, 'GET', '/scim/v2/Users?count=1', { token: ws.token });
    expect(scim.status).toBe(200);
    await call(ctx.app, 'GET', '/scim/v2/Users/00000000-0000-7000-8000-000000000000', { token: ws.token });

    let after = '';
    await waitFor(async () => {
      after = await scrape();
      return sample(after, 'loopit_emails_sent_total') >= sample(before, 'loopit_emails_sent_total') + 3;
    });
    const delta = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('loopit_import_rows_processed_total')).toBe(3);
    expect(delta('loopit_import_batch_duration_seconds_count')).toBe(2);
    expect(delta('loopit_scim_requests_total', 'method="GET",status="200"')).toBe(1);
    expect(delta('loopit_scim_requests_total', 'method="GET",status="404"')).toBe(1);
    expect(delta('loopit_jobs_total', 'queue="imports",name="batch",result="completed"')).toBe(2);
    expect(delta('loopit_http_requests_total', 'method="POST",route="/v1/imports",status="202"')).toBe(1);
  });
});
