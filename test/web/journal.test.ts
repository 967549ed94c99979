import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startBrowserStack, type BrowserStack } from '../support/browser.js';
import { databaseUrl } from '../support/databases.js';
import { runCli, waitFor } from '../support/processes.js';

/*
 * The change journal in a real browser: bulk actions on the Users page, the provisioning log, and
 * users an identity provider manages. The same harness as flow.test.ts (Debian's chromium, the
 * compiled service with its worker, a database of its own); UPDATE_SCREENSHOTS=1 writes the pictures
 * the README shows to docs/screenshots/.
 */

const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let database: string;
let base: string;
let page: Page;
let shots: string;
let token: string;
let scimToken: string;
let importId: string;

const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

const shot = (name: string, fullPage = true) =>
  page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });

/** The API as a script would call it, outside the browser. */
async function request<T = any>(
  method: string,
  url: string,
  options: { body?: unknown; bearer?: string; type?: string } = {},
): Promise<{ status: number; body: T }> {
  const type = options.type ?? 'application/json';
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${options.bearer ?? token}`,
      ...(options.body !== undefined ? { 'content-type': type } : {}),
    },
    ...(options.body !== undefined
      ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const users = async (filter: string) =>
  (
    await request<{ data: { id: string; name: string; status: string; role: { name: string } }[] }>(
      'GET',
      `/v1/users?limit=1000&${filter}`,
    )
  ).body.data;

/** Thirty people: the first fourteen in London, the rest in Paris, all Agents, none invited yet. */
const PEOPLE = Array.from({ length: 30 }, (_, i) => {
  const n = String(i + 1).padStart(2, '0');
  return `person${n}@example.com,Person ${n},Agent,${i < 14 ? 'London' : 'Paris'}`;
});

let stack: BrowserStack;

beforeAll(async () => {
  expect(CHROMIUM, 'chromium is not installed: apt-get install -y chromium (.ci/run does)').toBeDefined();
  stack = await startBrowserStack();
  ({ database, base, page, shots } = stack);
  const env = { DATABASE_URL: databaseUrl(database) };
  const created = await runCli(
    [
      ...['workspace', 'create', '--name', 'Acme', '--role', 'Admin', '--role', 'Agent'],
      ...['--default-role', 'Agent', '--location', 'London', '--location', 'Paris', '--json'],
    ],
    env,
  );
  const workspace = JSON.parse(created.stdout) as { token: string; workspaceId: string };
  token = workspace.token;
  const scim = await runCli(
    ['token', 'create', '--workspace', workspace.workspaceId, '--scope', 'scim', '--json'],
    env,
  );
  scimToken = (JSON.parse(scim.stdout) as { token: string }).token;
  const upload = await request<{ id: string }>('POST', '/v1/imports?sendInvites=false', {
    body: `Email,Name,Role,Location\n${PEOPLE.join('\n')}\n`,
    type: 'text/csv',
  });
  expect(upload.status).toBe(202);
  importId = upload.body.id;
  await waitFor(
    async () =>
      (await request<{ status: string }>('GET', `/v1/imports/${importId}`)).body.status === 'completed',
    30_000,
  );
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

describe(
  'bulk actions, the provisioning log and identity-provider users in a browser',
  { timeout: 60_000 },
  () => {
    it('deactivates everyone in London at once, after a question that names the count', async () => {
      await page.goto(`${base}/app/`);
      await page.getByLabel('Workspace token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();

      await page.getByLabel('Location').selectOption('London');
      const table = page.getByRole('table', { name: 'Users' });
      await eventually(() => table.locator('tbody tr').count()).toBe(14);
      await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
      const bar = page.getByRole('region', { name: 'Selected users' });
      await eventually(() => bar.locator('.bulk-count').textContent()).toBe('14 people selected.');

      await bar.getByRole('button', { name: 'Deactivate', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Deactivate 14 people?' });
      expect(await dialog.textContent()).toContain('They lose access until reactivated');
      await shot('users-bulk', false);
      await dialog.getByRole('button', { name: 'Deactivate 14 people' }).click();

      await page.getByRole('heading', { name: 'Deactivated 14 people.' }).waitFor();
      expect(await page.getByRole('list', { name: 'Outcome' }).textContent()).toBe('14 deactivated');
      await eventually(() => table.locator('tbody tr .badge-deactivated').count()).toBe(14);
      // The selection is gone with the action; the list shows the new state.
      expect(await bar.locator('.bulk-count').textContent()).toContain('No one selected');
      expect((await users('status=deactivated')).map((u) => u.name)).toEqual(
        PEOPLE.slice(0, 14).map((p) => p.split(',')[1]),
      );
    });

    it('selects everyone matching the filter across pages, and lists who failed and why', async () => {
      await page.getByLabel('Location').selectOption('');
      const table = page.getByRole('table', { name: 'Users' });
      await eventually(() => table.locator('tbody tr').count()).toBe(25);
      const bar = page.getByRole('region', { name: 'Selected users' });
      await bar.getByRole('button', { name: 'Select all matching the filter (up to 1,000)' }).click();
      await eventually(() => bar.locator('.bulk-count').textContent()).toBe(
        'All 30 people matching the filter are selected.',
      );
      // Someone removes a selected person meanwhile: that one fails, the others go through.
      const [gone] = await users('q=person30');
      expect((await request('DELETE', `/v1/users/${gone!.id}`)).status).toBe(204);

      await bar.getByRole('button', { name: 'Set role…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Set the role of 30 people?' });
      expect(await dialog.getByRole('button', { name: 'Set role' }).isDisabled()).toBe(true);
      await dialog.getByLabel('Role').selectOption('Admin');
      await dialog.getByRole('button', { name: 'Set role to Admin' }).click();

      await page.getByRole('heading', { name: 'Role set for 29 of 30 people.' }).waitFor();
      const outcome = page.getByRole('list', { name: 'Outcome' });
      expect(await outcome.getByRole('listitem').allTextContents()).toEqual(['29 role changed', '1 failed']);
      const failed = page.getByRole('table', { name: 'Not done, and why' });
      expect(await failed.locator('tbody tr').count()).toBe(1);
      expect(await failed.textContent()).toContain('Person 30');
      expect(await failed.textContent()).toContain('not_found');
      await shot('bulk-result', false);
      expect((await users('role=Admin')).length).toBe(29);
    });

    it('badges a user an identity provider created, and asks before editing or deactivating one', async () => {
      const created = await request<{ id: string }>('POST', '/scim/v2/Users', {
        bearer: scimToken,
        type: 'application/scim+json',
        body: {
          schemas: [CORE_USER],
          userName: 'ida.okta@example.com',
          name: { givenName: 'Ida', familyName: 'Okta' },
          emails: [{ value: 'ida.okta@example.com', primary: true }],
          active: true,
        },
      });
      expect(created.status).toBe(201);
      // And a request the service refuses (no userName): the log says why.
      const refused = await request('POST', '/scim/v2/Users', {
        bearer: scimToken,
        type: 'application/scim+json',
        body: { schemas: [CORE_USER], name: { givenName: 'Nameless' } },
      });
      expect(refused.status).toBe(400);

      await page.getByLabel('Search name or e-mail').fill('ida.okta');
      await page.getByRole('button', { name: 'Search' }).click();
      const table = page.getByRole('table', { name: 'Users' });
      await eventually(() => table.locator('tbody tr').count()).toBe(1);
      expect(await table.locator('tbody tr .badge-idp').textContent()).toBe('Identity provider (SCIM)');

      await page.getByRole('button', { name: 'Edit Ida Okta' }).click();
      const edit = page.getByRole('dialog', { name: 'Edit Ida Okta' });
      expect(await edit.textContent()).toContain('Managed by an identity provider (SCIM)');
      await edit.getByLabel('Location').selectOption('Paris');
      await edit.getByRole('button', { name: 'Save', exact: true }).click();
      const ask = page.getByRole('dialog', { name: 'Save changes to Ida Okta?' });
      expect(await ask.textContent()).toContain('may overwrite this change at its next sync');
      await shot('identity-provider', false);
      await ask.getByRole('button', { name: 'Save anyway' }).click();
      await edit.waitFor({ state: 'detached' });
      await eventually(() => table.locator('tbody tr').textContent()).toContain('Paris');

      await page.getByRole('button', { name: 'Deactivate Ida Okta' }).click();
      const deactivate = page.getByRole('dialog', { name: 'Deactivate Ida Okta?' });
      expect(await deactivate.textContent()).toContain(
        'Ida Okta is managed by an identity provider (SCIM). Your identity provider may overwrite this change',
      );
      await deactivate.getByRole('button', { name: 'Deactivate', exact: true }).click();
      await eventually(() => table.locator('tbody tr .badge-deactivated').count()).toBe(1);
      const [ida] = await users('q=ida.okta');
      expect(ida).toMatchObject({ status: 'deactivated' });

      // In bulk as well: the question says who is managed by the identity provider.
      await page.getByRole('checkbox', { name: 'Select Ida Okta' }).check();
      await page
        .getByRole('region', { name: 'Selected users' })
        .getByRole('button', { name: 'Reactivate' })
        .click();
      const bulk = page.getByRole('dialog', { name: 'Reactivate 1 person?' });
      expect(await bulk.textContent()).toContain('Ida Okta is managed by an identity provider (SCIM).');
      await bulk.getByRole('button', { name: 'Cancel' }).click();
      await bulk.waitFor({ state: 'detached' });
      expect((await users('q=ida.okta'))[0]).toMatchObject({ status: 'deactivated' });
    });

    it('shows the provisioning log by source: bulk changes with role names, a refused SCIM request and its reason', async () => {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Provisioning log' })
        .click();
      await page.getByRole('heading', { name: 'Provisioning log', level: 1 }).waitFor();
      const log = page.getByRole('table', { name: 'Provisioning log' });
      // Newest first: Ida's deactivation in the app is the latest change.
      await eventually(() => log.locator('tbody tr').first().textContent()).toContain('User deactivated');
      expect(await log.locator('tbody tr').first().locator('td[data-label="Who"]').textContent()).toMatch(
        /^Youtoken lp_\w{10}$/,
      );

      await page.getByLabel('Source').selectOption({ label: 'Bulk actions' });
      await eventually(async () => page.url()).toContain('source=bulk');
      // 14 deactivations and 29 role changes.
      await eventually(() => log.locator('tbody tr').count()).toBe(43);
      const sources = await log.locator('td[data-label="Source"]').allTextContents();
      expect(new Set(sources)).toEqual(new Set(['Bulk action']));
      const rows = await log.locator('tbody tr').allTextContents();
      expect(rows.filter((r) => r.includes('Role: Agent → Admin'))).toHaveLength(29);
      expect(rows.filter((r) => r.includes('Status: Invited → Deactivated'))).toHaveLength(14);

      await page.getByLabel('Source').selectOption({ label: 'Identity provider (SCIM)' });
      await eventually(() => log.locator('tbody tr').count()).toBe(2);
      const refused = log.locator('tbody tr.refused');
      // The identity provider's own token, not the signed-in one.
      expect(await refused.locator('td[data-label="Who"]').textContent()).toBe(
        `Another tokentoken ${scimToken.split('_').slice(0, 2).join('_')}`,
      );
      expect(await refused.textContent()).toContain('SCIM request refused');
      expect(await refused.textContent()).toMatch(/Refused with 400 invalidValue: .*userName/);
      expect(await refused.locator('td[data-label="User"]').textContent()).toBe('—');
      expect(await log.locator('tbody tr').nth(1).textContent()).toContain('E-mail: ida.okta@example.com');
      await shot('provisioning-log-scim');
    });

    it('filters the log by user (from the Users page and by e-mail) and by time, and links an import', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByLabel('Search name or e-mail').fill('person01');
      await page.getByRole('button', { name: 'Search' }).click();
      const table = page.getByRole('table', { name: 'Users' });
      await eventually(() => table.locator('tbody tr').count()).toBe(1);
      await page.getByRole('link', { name: 'History of Person 01' }).click();
      await page.getByRole('heading', { name: 'Provisioning log', level: 1 }).waitFor();
      expect(page.url()).toMatch(/\/app\/log\?userId=[0-9a-f-]{36}$/);
      await eventually(() => page.getByRole('status').first().textContent()).toContain(
        'History of Person 01 (person01@example.com)',
      );
      const log = page.getByRole('table', { name: 'Provisioning log' });
      await eventually(() => log.locator('tbody tr').count()).toBe(3);
      expect(await log.locator('td[data-label="What"] strong').allTextContents()).toEqual([
        'User changed',
        'User deactivated',
        'User added',
      ]);
      expect(await log.locator('tbody tr').first().textContent()).toContain('Role: Agent → Admin');
      await shot('provisioning-log');

      // An import's events link to the import.
      await log.locator('tbody tr').nth(2).getByRole('link', { name: 'Import' }).click();
      await eventually(async () => page.url()).toBe(`${base}/app/imports/${importId}`);
      await page.getByRole('heading', { name: /^Import of/ }).waitFor();
      await page.goBack();
      await eventually(() => log.locator('tbody tr').count()).toBe(3);

      await page.getByLabel('User (id or e-mail)').fill('ida.okta@example.com');
      await page.getByRole('button', { name: 'Show events' }).click();
      await eventually(() => page.getByRole('status').first().textContent()).toContain('History of Ida Okta');
      await eventually(() => log.locator('tbody tr').count()).toBe(3);
      expect(await log.textContent()).toContain('Location: none → Paris');

      // A time range after everything: nothing.
      await page.getByLabel('From').fill('2999-01-01T00:00');
      await page.getByRole('button', { name: 'Show events' }).click();
      await page.getByText('No events match these filters.').waitFor();
      expect(page.url()).toContain('since=');
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await eventually(() => log.locator('tbody tr').count()).toBeGreaterThan(40);

      // /app/audit, the address people guess, is the log; the imports' events each link to the import.
      await page.goto(`${base}/app/audit?source=csv`);
      await eventually(async () => page.url()).toBe(`${base}/app/log?source=csv`);
      expect(await page.getByLabel('Source').inputValue()).toBe('csv');
      // 30 users created, and the import's own entry (Import finished).
      await eventually(() => log.locator('tbody tr').count()).toBe(31);
      expect(await log.getByRole('link', { name: 'Import', exact: true }).count()).toBe(31);

      // On a phone the log and the Users page are cards, never wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await eventually(() => page.getByRole('table', { name: 'Users' }).locator('tbody tr').count()).toBe(25);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.setViewportSize({ width: 1280, height: 860 });
    });
  },
);
