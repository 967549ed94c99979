import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startBrowserStack, type BrowserStack } from '../support/browser.js';
import { OPERATOR_TOKEN } from '../support/context.js';
import { databaseUrl } from '../support/databases.js';
import { fixture } from '../support/pipeline.js';
import { workbook, XLSX_TYPE } from '../support/workbooks.js';
import { runCli } from '../support/processes.js';

/*
 * The customer-success flow in a real browser: Debian's chromium driven by playwright-core (no browser
 * download), against the compiled service with its worker. UPDATE_SCREENSHOTS=1 writes the pictures the
 * README shows to docs/screenshots/; otherwise they go to a temporary directory.
 */

let database: string;
let base: string;
let browser: Browser;
let page: Page;
let shots: string;
let token: string;
let workspaceId: string;

/** Waits for what the page shows to settle (vitest's expect.poll gives up after one second by default). */
const eventually = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 100 });

const shot = (name: string, fullPage = true) =>
  page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });

let stack: BrowserStack;

beforeAll(async () => {
  expect(CHROMIUM, 'chromium is not installed: apt-get install -y chromium (.ci/run does)').toBeDefined();
  stack = await startBrowserStack({ BATCH_SIZE: '4' });
  ({ database, base, browser, page, shots } = stack);
  const created = await runCli(
    [
      ...['workspace', 'create', '--name', 'Acme', '--role', 'Admin', '--role', 'Member'],
      ...['--default-role', 'Member', '--location', 'London', '--location', 'Paris', '--json'],
    ],
    { DATABASE_URL: databaseUrl(database) },
  );
  ({ token, workspaceId } = JSON.parse(created.stdout) as { token: string; workspaceId: string });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('the web app in a browser', { timeout: 60_000 }, () => {
  it('refuses a wrong token and signs in with a workspace token', async () => {
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${base}/app/`);
    await page.getByLabel('Workspace token').fill('lp_abcdefghij_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent()).toContain('was not recognised');
    await shot('sign-in');
    await page.getByLabel('Workspace token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Imports', level: 1 }).waitFor();
    expect(page.url()).toBe(`${base}/app/imports`);
    expect(await page.locator('header .brand').textContent()).toContain('Acme');
    // No CSP violation or script error (the 401 of the wrong token is the only failed request).
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  });

  it('previews a file with errors, applies it and follows the progress to 100%', async () => {
    await page.setInputFiles('#file', fixture('every-error.csv'));
    await page.getByLabel('Add and update').check();
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('heading', { name: 'Nothing has changed yet' }).waitFor();
    await eventually(() => page.locator('.facts').textContent()).toContain('utf-8');
    expect(await page.locator('.facts').textContent()).toContain('comma (,)');
    const mapping = page.getByRole('table', { name: 'Column mapping' });
    expect(await mapping.getByRole('row', { name: /First name/ }).textContent()).toContain('First Name');
    expect(await page.getByText('Kept for the report only: Notes.').count()).toBe(1);
    const rows = page.getByRole('table', { name: /Rows of the import/ });
    await rows.getByText('invalid_email', { exact: false }).first().waitFor();
    expect(await rows.locator('tbody tr').count()).toBe(10);
    expect(await rows.textContent()).toContain('one @, no spaces');
    await shot('preview');

    await page.getByRole('button', { name: 'Apply import' }).click();
    await page.getByRole('heading', { name: /^Import of every-error\.csv/ }).waitFor();
    const bar = page.getByRole('progressbar', { name: 'Import progress' });
    await eventually(() => bar.getAttribute('aria-valuenow')).toBe('100');
    await eventually(() => page.locator('.meta .badge').textContent()).toBe('Completed with errors');
    expect(await page.locator('.count-created .n').textContent()).toBe('3');
    expect(await page.locator('.count-failed .n').textContent()).toBe('10');
    await shot('report');
  });

  it('filters the failed rows and downloads the report', async () => {
    await page.getByLabel('Show').selectOption('created');
    const rows = page.getByRole('table', { name: /Rows of the import, Created/ });
    await eventually(() => rows.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Show').selectOption('failed');
    const failed = page.getByRole('table', { name: /Rows of the import, Failed/ });
    await eventually(() => failed.locator('tbody tr').count()).toBe(10);
    expect(await failed.textContent()).toContain('appears earlier in the file');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const report = await readFile(await download.path());
    expect(report.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = report.toString('utf8');
    expect(text.split('\r\n')[0]).toContain('row,status,invitation,error_code,error_message,user_id');
    expect(text).toContain('duplicate_in_file');

    const [retried] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/retry')),
      page.getByRole('button', { name: 'Retry failed rows' }).click(),
    ]);
    expect(retried.status()).toBe(202);
    await eventually(() => page.getByRole('status').first().textContent()).toContain('Retrying');
    // The same rows fail again (they need a fix in the file); the import ends as before.
    await eventually(() => page.locator('.meta .badge').textContent()).toBe('Completed with errors');
    await eventually(() => page.locator('.count-failed .n').textContent()).toBe('10');

    await page.setViewportSize({ width: 390, height: 844 });
    await page
      .locator('table.rows tbody tr')
      .nth(1)
      .evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot('report-phone', false);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('corrects failed rows in the app (an e-mail, a role) and the retry runs the corrections', async () => {
    await page.getByLabel('Show').selectOption('failed');
    const failed = page.getByRole('table', { name: /Rows of the import, Failed/ });
    await eventually(() => failed.locator('tbody tr').count()).toBe(10);

    await page.getByRole('button', { name: 'Correct row 4' }).click();
    const dialog = page.getByRole('dialog', { name: 'Correct row 4' });
    expect(await dialog.textContent()).toContain('one @, no spaces');
    await dialog.getByLabel('E-mail').fill('alan.turing');
    await dialog.getByRole('button', { name: 'Save correction' }).click();
    // Checked at once: still open, with the reason.
    await eventually(() => dialog.getByRole('alert').textContent()).toContain(
      'is not a valid e-mail address',
    );
    await dialog.getByLabel('E-mail').fill('alan.turing@example.com');
    await shot('fix-row', false);
    await dialog.getByRole('button', { name: 'Save correction' }).click();
    await eventually(() => failed.textContent()).toContain(
      'email: alan.turing.example.com → alan.turing@example.com',
    );

    await page.getByRole('button', { name: 'Correct row 10' }).click();
    const roleDialog = page.getByRole('dialog', { name: 'Correct row 10' });
    expect(await roleDialog.getByLabel('Role').inputValue()).toBe('Wizard');
    await roleDialog.getByLabel('Role').selectOption('Admin');
    await roleDialog.getByRole('button', { name: 'Save correction' }).click();
    await eventually(() => failed.textContent()).toContain('role: Wizard → Admin');

    await page.getByRole('button', { name: 'Retry failed rows' }).click();
    await eventually(() => page.locator('.count-created .n').textContent()).toBe('5');
    await eventually(() => page.locator('.count-failed .n').textContent()).toBe('8');
    const users = await fetch(`${base}/v1/users?q=alan.turing`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await users.json()) as { data: { email: string }[] }).data.map((u) => u.email)).toEqual([
      'alan.turing@example.com',
    ]);
  });

  it('adds users with "Save and add another", then edits one', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add user' });
    await dialog.getByLabel('Name').fill('Ann Lee');
    await dialog.getByLabel('E-mail', { exact: true }).fill('ann.lee@example.com');
    await dialog.getByLabel('Role').selectOption('Admin');
    await dialog.getByLabel('Location').selectOption('London');
    await dialog.getByRole('button', { name: 'Save and add another' }).click();
    await eventually(() => page.getByRole('status').first().textContent()).toContain('Added Ann Lee');
    expect(await dialog.getByLabel('Name').inputValue()).toBe('');
    await dialog.getByLabel('Name').fill('Bo Ek');
    await dialog.getByLabel('E-mail', { exact: true }).fill('not-an-address');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await eventually(() => dialog.getByRole('alert').textContent()).toMatch(/e-mail/i);
    expect(await dialog.getByLabel('E-mail', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await dialog.getByLabel('E-mail', { exact: true }).fill('bo.ek@example.com');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    await page.getByLabel('Search name or e-mail').fill('ann.lee');
    await page.getByRole('button', { name: 'Search' }).click();
    const table = page.getByRole('table', { name: 'Users' });
    await eventually(() => table.locator('tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: 'Edit Ann Lee' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Ann Lee' });
    await edit.getByLabel('Name').fill('Ann Lee-Smith');
    await edit.getByLabel('Role').selectOption('Member');
    await edit.getByLabel('Location').selectOption('Paris');
    await edit.getByRole('button', { name: 'Save', exact: true }).click();
    await edit.waitFor({ state: 'detached' });
    await eventually(() => table.locator('tbody tr').first().textContent()).toContain('Ann Lee-Smith');
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/Member.*Paris/);

    await page.getByLabel('Search name or e-mail').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    // Three from the import, two corrected in the app, two added here.
    await eventually(() => table.locator('tbody tr').count()).toBe(7);
    await shot('users');

    const res = await fetch(`${base}/v1/users?q=ann.lee`, { headers: { authorization: `Bearer ${token}` } });
    const [ann] = ((await res.json()) as { data: { name: string; role: { name: string } }[] }).data;
    expect(ann).toMatchObject({ name: 'Ann Lee-Smith', role: { name: 'Member' } });
  });

  it('previews a sync: who would be deactivated, before anything changes', async () => {
    await page.getByRole('link', { name: 'Imports' }).click();
    await page.setInputFiles('#file', {
      name: 'still-here.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('Email,Name\nada@example.com,Ada Lovelace\ntim@example.com,Tim Berners-Lee\n'),
    });
    await page.getByLabel('Sync (add, update, deactivate the rest)').check();
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('heading', { name: 'Nothing has changed yet' }).waitFor();
    expect(await page.locator('.count-deactivated').textContent()).toBe('5 would be deactivated');
    await page.getByLabel('Show').selectOption('deactivated');
    const rows = page.getByRole('table', { name: /Rows of the import, Deactivated/ });
    await eventually(() => rows.locator('tbody tr').count()).toBe(5);
    expect(await rows.textContent()).toContain('ann.lee@example.com');
    expect(await rows.textContent()).toContain('would be deactivated');
    await shot('sync-preview');
    const res = await fetch(`${base}/v1/users?status=active`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const invited = await fetch(`${base}/v1/users?status=invited`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await res.json()) as { data: unknown[] }).data.length).toBe(0);
    expect(((await invited.json()) as { data: unknown[] }).data.length).toBe(7);
  });

  it('previews an Excel workbook: the sheet it read and its failing rows with their sheet row numbers', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    const bytes = await workbook([
      {
        name: 'Staff',
        rows: [
          ['Email', 'Full Name', 'Branch'],
          ['mia@example.com', 'Mia Wong', 'London'],
          ['mia(at)example.com', 'Mia Two', 'London'],
        ],
      },
    ]);
    await page.setInputFiles('#file', { name: 'staff.xlsx', mimeType: XLSX_TYPE, buffer: bytes });
    await page.getByLabel('Add and update').check();
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('heading', { name: 'Nothing has changed yet' }).waitFor();
    await eventually(() => page.locator('.facts').textContent()).toContain('Staff');
    expect(await page.locator('.facts').textContent()).toContain('Workbook sheet');
    const rows = page.getByRole('table', { name: /Rows of the import/ });
    await rows.getByText('invalid_email', { exact: false }).first().waitFor();
    expect(await rows.locator('tbody tr').first().textContent()).toContain('3');
    await shot('preview-xlsx');
  });

  it('saves the settings, and shows a clear screen for a section the token lacks', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Default role').waitFor();
    expect(await page.getByLabel('Default role').inputValue()).toBe('Member');
    await page.getByLabel('Invitations expire after (days)').fill('14');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const form = page.getByRole('form', { name: 'Workspace settings' });
    await eventually(() => form.getByRole('status').textContent()).toContain('Settings saved');
    const settings = await fetch(`${base}/v1/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await settings.json()) as { invitationTtlHours: number }).invitationTtlHours).toBe(336);

    // Roles and locations, so that an import's unknown role or location is fixed without leaving the app.
    const get = async (path: string) =>
      (
        (await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          data: { name: string }[];
        }
      ).data.map((x) => x.name);
    const roles = page.getByRole('list', { name: 'Roles' });
    await page.getByLabel('New role').fill('Fleet manager');
    await page.getByRole('button', { name: 'Add role' }).click();
    await eventually(() => roles.getByRole('listitem').allTextContents()).toHaveLength(3);
    expect(await get('/v1/roles')).toEqual(['Admin', 'Member', 'Fleet manager']);
    await page.getByRole('button', { name: 'Move Fleet manager up' }).click();
    await eventually(() => get('/v1/roles')).toEqual(['Admin', 'Fleet manager', 'Member']);
    await eventually(() => roles.getByRole('listitem').nth(1).textContent()).toContain('Fleet manager');
    // The default role's list follows.
    await eventually(() => page.getByLabel('Default role').locator('option').allTextContents()).toContain(
      'Fleet manager',
    );
    await page.getByRole('button', { name: 'Rename Paris' }).click();
    await page.getByLabel('New name for Paris').fill('Paris Nord');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await eventually(() => get('/v1/locations')).toEqual(['London', 'Paris Nord']);
    await page.getByLabel('New location').fill('london');
    await page.getByRole('button', { name: 'Add location' }).click();
    await eventually(() => page.getByRole('alert').first().textContent()).toContain('already exists');
    expect(await get('/v1/locations')).toEqual(['London', 'Paris Nord']);
    await shot('settings');

    const limited = await runCli(
      ['token', 'create', '--workspace', workspaceId, '--scope', 'users', '--json'],
      {
        DATABASE_URL: databaseUrl(database),
      },
    );
    const usersOnly = (JSON.parse(limited.stdout) as { token: string }).token;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Workspace token').fill(usersOnly);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Still on /app/settings, which this token cannot open: it says so, and how to get a token that can.
    await page.getByRole('heading', { name: 'This token cannot open Settings' }).waitFor();
    expect(await page.getByRole('link', { name: 'Imports' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(1);
    await page.goto(`${base}/app/imports`);
    await page.getByRole('heading', { name: 'This token cannot open Imports' }).waitFor();
    await shot('missing-scope');
    expect(await page.locator('main').textContent()).toContain('--scope imports');
  });

  it('undoes an import: the preview of the undo first, then the people it created are gone', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Workspace token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Imports', level: 1 }).waitFor();
    await page.setInputFiles('#file', {
      name: 'wrong-file.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('Email,Name\noops1@example.com,Oops One\noops2@example.com,Oops Two\n'),
    });
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('button', { name: 'Apply import' }).click();
    await page.getByRole('heading', { name: /^Import of wrong-file\.csv/ }).waitFor();
    await eventually(() => page.locator('.meta .badge').textContent()).toBe('Completed');

    await page.getByRole('button', { name: 'Preview the undo' }).click();
    await page.getByRole('heading', { name: /^Preview: undo of wrong-file\.csv/ }).waitFor();
    await eventually(() => page.locator('.apply').textContent()).toContain('delete 2 people');
    const rows = page.getByRole('table', { name: /Rows of the import/ });
    await eventually(() => rows.locator('tbody tr').count()).toBe(2);
    expect(await rows.textContent()).toContain('Would delete');
    // Nothing has changed yet.
    const find = async () =>
      (
        (await (
          await fetch(`${base}/v1/users?q=oops`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as {
          data: unknown[];
        }
      ).data.length;
    expect(await find()).toBe(2);
    await shot('undo-preview');

    await page.getByRole('button', { name: 'Undo import' }).click();
    await page.getByRole('heading', { name: /^Undo of wrong-file\.csv/ }).waitFor();
    await eventually(() => page.locator('.count-deleted .n').textContent()).toBe('2');
    expect(await find()).toBe(0);
    await page.getByRole('link', { name: 'this import' }).click();
    await eventually(() => page.locator('main').textContent()).toContain('This import was undone');
  });

  it('a file refused for a missing column: the mapping step, then the preview and apply', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await page.setInputFiles('#file', {
      name: 'equipe.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'Mail,Nom,Rolle,Notes\nclaire@example.com,Claire Martin,Admin,x\nhugo@example.com,Hugo Petit,,y\n',
      ),
    });
    await page.getByRole('button', { name: 'Preview import' }).click();
    const step = page.getByRole('form', { name: 'Which column holds what?' });
    await step.waitFor();
    expect(await step.textContent()).toContain('Name');
    // The service's suggestion is preselected: Nom holds the name.
    expect(await step.getByLabel('Nom').inputValue()).toBe('name');
    await step.getByLabel('Notes').selectOption({ label: 'Not used' });
    await shot('mapping-step');
    await step.getByRole('button', { name: 'Preview again' }).click();
    await page.getByRole('heading', { name: 'Nothing has changed yet' }).waitFor();
    const mapping = page.getByRole('table', { name: 'Column mapping' });
    expect(await mapping.getByRole('row', { name: /^Name/ }).textContent()).toContain('Nomchosen by you');
    expect(await mapping.getByRole('row', { name: /^Role/ }).textContent()).toContain(
      'Rollerecognised header',
    );
    await page.getByRole('button', { name: 'Apply import' }).click();
    await page.getByRole('heading', { name: /^Import of equipe\.csv/ }).waitFor();
    await eventually(() => page.locator('.count-created .n').textContent()).toBe('2');
    const res = await fetch(`${base}/v1/users?q=claire`, { headers: { authorization: `Bearer ${token}` } });
    expect(
      ((await res.json()) as { data: { name: string; role: { name: string } }[] }).data[0],
    ).toMatchObject({
      name: 'Claire Martin',
      role: { name: 'Admin' },
    });
  });

  it('a column that looks unused ("Job role") is a warning on the preview, fixed by the mapping step', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await page.setInputFiles('#file', {
      name: 'staff.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('Email,Name,Job role\nivy@example.com,Ivy Lee,Admin\n'),
    });
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('heading', { name: 'Nothing has changed yet' }).waitFor();
    const warnings = page.getByRole('alert', { name: 'Warnings' });
    await eventually(() => warnings.textContent()).toContain('Job role');
    expect(await warnings.textContent()).toContain('default_role_applied');
    await shot('preview-warnings', false);
    await page.getByRole('button', { name: 'Change the column mapping' }).click();
    const step = page.getByRole('form', { name: 'Which column holds what?' });
    expect(await step.getByLabel('Job role').inputValue()).toBe('role');
    await step.getByRole('button', { name: 'Preview again' }).click();
    await eventually(() =>
      page.getByRole('table', { name: 'Column mapping' }).getByRole('row', { name: /^Role/ }).textContent(),
    ).toContain('Job role');
    expect(await page.getByRole('alert', { name: 'Warnings' }).count()).toBe(0);
  });

  it('opens the queue dashboard when a proxy adds the operator token, and only then', async () => {
    const anonymous = await browser.newPage();
    const refused = await anonymous.goto(`${base}/admin/queues`);
    expect(refused?.status()).toBe(401);
    await anonymous.close();

    // What an authenticating proxy in front of /admin/ does: add the header to every request.
    const operator = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      extraHTTPHeaders: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    const board = await operator.newPage();
    const problems: string[] = [];
    board.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    board.on('pageerror', (e) => problems.push(e.message));
    await board.goto(`${base}/admin/queues`);
    await board.getByText('imports', { exact: true }).first().waitFor();
    expect(await board.getByText('email', { exact: true }).count()).toBeGreaterThan(0);
    await board.screenshot({ path: path.join(shots, 'queues.png') });
    // Only the Google Fonts stylesheet bull-board links is refused by the CSP; nothing else fails.
    expect(problems.filter((p) => !/fonts\.googleapis|Content Security Policy.*style/i.test(p))).toEqual([]);
    await operator.close();
  });
});
