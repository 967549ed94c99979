import path from 'node:path';
import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startBrowserStack, type BrowserStack } from '../support/browser.js';
import { databaseUrl } from '../support/databases.js';
import { runCli } from '../support/processes.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

/*
 * Webhooks in Settings, in a real browser (the same harness as flow.test.ts): add an endpoint with its
 * events, see and copy the secret once, send a test and watch it arrive in the delivery log, see a
 * user added through the API delivered, retry a failed delivery, disable, enable and delete. The receiver is a local http server, so the service
 * runs with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_NETWORKS. UPDATE_SCREENSHOTS=1 writes
 * docs/screenshots/webhooks.png.
 */

let stack: BrowserStack;
let page: Page;
let receiver: Receiver;
let token: string;

const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

beforeAll(async () => {
  expect(CHROMIUM, 'chromium is not installed: apt-get install -y chromium (.ci/run does)').toBeDefined();
  receiver = await startReceiver();
  stack = await startBrowserStack({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
  page = stack.page;
  const created = await runCli(['workspace', 'create', '--name', 'Acme', '--role', 'Admin', '--json'], {
    DATABASE_URL: databaseUrl(stack.database),
  });
  token = (JSON.parse(created.stdout) as { token: string }).token;
  await stack.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.base });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

describe('webhooks in Settings', { timeout: 60_000 }, () => {
  it('adds an endpoint, shows its secret once, and sends a test that shows in the delivery log', async () => {
    await page.goto(`${stack.base}/app/`);
    await page.getByLabel('Workspace token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await eventually(() => page.getByText('No endpoints yet.').count()).toBe(1);

    // A refused URL says why, on the field.
    await page.getByLabel('URL').fill('ftp://hooks.example.com/x');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await eventually(() =>
      page.getByRole('form', { name: 'Add a webhook endpoint' }).getByRole('alert').textContent(),
    ).toContain('must be an https URL');

    await page.getByLabel('URL').fill(`${receiver.url}/crm`);
    await page.getByLabel('Description (optional)').fill('CRM sync');
    await page.getByLabel(/User deactivated/).check();
    await page.getByLabel(/User changed/).uncheck();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secretBox = page.getByRole('region', { name: /Signing secret for/ });
    await secretBox.waitFor();
    const secret = (await secretBox.getByLabel('Signing secret').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await eventually(() => secretBox.getByRole('status').textContent()).toContain('Copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);

    const list = page.getByRole('list', { name: 'Webhook endpoints' });
    const row = list.getByRole('listitem').first();
    expect(await row.textContent()).toContain('Sends: User added, User deactivated');
    expect(await row.textContent()).toContain('Enabled');
    const endpoints = (await (
      await fetch(`${stack.base}/v1/webhooks`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { data: { id: string; events: string[]; description: string }[] };
    expect(endpoints.data).toEqual([
      expect.objectContaining({ events: ['user.created', 'user.deactivated'], description: 'CRM sync' }),
    ]);

    await row.getByRole('button', { name: 'Send test' }).click();
    const log = row.getByRole('table', { name: 'Deliveries' });
    await eventually(() => log.getByRole('row').nth(1).textContent()).toContain('Delivered');
    expect(await log.getByRole('row').nth(1).textContent()).toContain('204');
    // The receiver got it, signed with the secret the page showed.
    expect(receiver.received).toHaveLength(1);
    const body = new Webhook(secret).verify(
      receiver.received[0]!.body,
      receiver.received[0]!.headers as Record<string, string>,
    );
    expect(body).toMatchObject({ type: 'webhook.test' });

    // A change made elsewhere (here through the API) is an event the endpoint receives.
    const user = await fetch(`${stack.base}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ann Lee', email: 'ann@example.com', role: 'Admin', sendInvite: false }),
    });
    expect(user.status).toBe(201);
    await eventually(async () => {
      await row.getByRole('button', { name: 'Refresh' }).click();
      return log.getByRole('row').nth(1).textContent();
    }).toMatch(/User added.*Delivered/);
    expect(receiver.received).toHaveLength(2);
    expect(JSON.parse(receiver.received[1]!.body)).toMatchObject({
      type: 'user.created',
      data: { email: 'ann@example.com' },
    });

    await page.getByRole('button', { name: 'Done' }).click();
    expect(await secretBox.count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toContain(secret);
  });

  it('shows a failed delivery with its answer, retries it, disables, enables and deletes', async () => {
    receiver.behave(() => ({ status: 500, body: 'database is down' }));
    const row = page.getByRole('list', { name: 'Webhook endpoints' }).getByRole('listitem').first();
    await row.getByRole('button', { name: 'Send test' }).click();
    const log = row.getByRole('table', { name: 'Deliveries' });
    await eventually(() => log.getByRole('row').nth(1).textContent()).toContain('Failed');
    expect(await log.getByRole('row').nth(1).textContent()).toContain(
      'the endpoint answered 500 Internal Server Error: database is down',
    );
    await page
      .getByRole('region', { name: 'Webhooks' })
      .screenshot({ path: path.join(stack.shots, 'webhooks.png') });

    receiver.behave(() => ({ status: 204 }));
    await log.getByRole('row').nth(1).getByRole('button', { name: 'Retry' }).click();
    await eventually(() => log.getByRole('row').nth(1).textContent()).toContain('Delivered');
    expect(await log.getByRole('row').nth(1).textContent()).toMatch(/Delivered\s*2\s*204/);

    await row.getByRole('button', { name: 'Disable' }).click();
    await eventually(() => row.textContent()).toContain('Disabled');
    await row.getByRole('button', { name: 'Enable' }).click();
    await eventually(() => row.getByRole('button', { name: 'Disable' }).count()).toBe(1);

    await row.getByRole('button', { name: 'Delete' }).click();
    await page
      .getByRole('dialog', { name: /Delete the endpoint/ })
      .getByRole('button', { name: 'Delete endpoint' })
      .click();
    await eventually(() => page.getByText('No endpoints yet.').count()).toBe(1);
  });
});
