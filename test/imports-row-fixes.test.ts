import { describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { allRows, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext();
useTestWorkers(ctx);

const CSV =
  'email,first name,last name,role,location\n' +
  'ok@example.com,Ada,Lovelace,Admin,Berlin\n' +
  'bob@example,Bob,Builder,Admin,Berlin\n' +
  'cy@example.com,Cy,Young,Fleet boss,Berlin\n' +
  'di@example.com,Di,Prince,Admin,Atlantis\n' +
  'ok@example.com,Ada,Again,Admin,Berlin\n';

async function finishedImport(token: string, query = '') {
  const up = await upload(ctx.app, token, CSV, query);
  expect(up.status).toBe(202);
  return waitForImport(ctx.app, token, up.body.id);
}

const fix = (token: string, id: string, row: number | string, body: unknown) =>
  call(ctx.app, 'PATCH', `/v1/imports/${id}/rows/${row}`, { token, body });

const usersOf = (workspaceId: string) =>
  ctx.db
    .selectFrom('users as u')
    .innerJoin('roles as r', 'r.id', 'u.role_id')
    .leftJoin('locations as l', 'l.id', 'u.location_id')
    .select(['u.email', 'u.given_name', 'r.name as role', 'l.name as location'])
    .where('u.workspace_id', '=', workspaceId)
    .where('u.deleted_at', 'is', null)
    .orderBy('u.email')
    .execute();

describe('PATCH /v1/imports/:id/rows/:row, then retry', () => {
  it('corrects failed rows (e-mail, role, location, an in-file duplicate) and the retry creates them', async () => {
    const ws = await makeWorkspace(ctx.db, {
      roles: ['Admin', 'Fleet manager'],
      locations: ['Berlin', 'Paris'],
    });
    const imp = await finishedImport(ws.token);
    expect(imp.status).toBe('completed_with_errors');
    const before = await allRows(ctx.app, ws.token, imp.id);
    expect(before.map((r) => [r.row, r.status, r.errorCode])).toEqual([
      [2, 'created', null],
      [3, 'failed', 'invalid_email'],
      [4, 'failed', 'unknown_role'],
      [5, 'failed', 'unknown_location'],
      [6, 'failed', 'duplicate_in_file'],
    ]);

    const email = await fix(ws.token, imp.id, 3, { email: ' bob@example.com ' });
    expect(email.status).toBe(200);
    expect(email.body).toMatchObject({
      row: 3,
      email: 'bob@example.com',
      status: 'failed',
      errorCode: 'invalid_email',
      fixes: { email: { from: 'bob@example', to: 'bob@example.com' } },
    });
    // A second correction of the same field keeps what the file said.
    await fix(ws.token, imp.id, 3, { email: 'bob.b@example.com' });
    expect((await fix(ws.token, imp.id, 3, { email: 'bob@example.com' })).body.fixes).toEqual({
      email: { from: 'bob@example', to: 'bob@example.com' },
    });
    expect((await fix(ws.token, imp.id, 4, { role: 'fleet MANAGER' })).status).toBe(200);
    expect((await fix(ws.token, imp.id, 5, { location: 'Paris' })).status).toBe(200);
    expect((await fix(ws.token, imp.id, 6, { email: 'ada.again@example.com' })).status).toBe(200);

    // Nothing ran yet: the corrections wait for the retry.
    expect((await usersOf(ws.workspaceId)).map((u) => u.email)).toEqual(['ok@example.com']);

    expect((await call(ctx.app, 'POST', `/v1/imports/${imp.id}/retry`, { token: ws.token })).status).toBe(
      202,
    );
    const done = await waitForImport(ctx.app, ws.token, imp.id);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ created: 5, failed: 0 });
    expect(await usersOf(ws.workspaceId)).toEqual([
      { email: 'ada.again@example.com', given_name: 'Ada', role: 'Admin', location: 'Berlin' },
      { email: 'bob@example.com', given_name: 'Bob', role: 'Admin', location: 'Berlin' },
      { email: 'cy@example.com', given_name: 'Cy', role: 'Fleet manager', location: 'Berlin' },
      { email: 'di@example.com', given_name: 'Di', role: 'Admin', location: 'Paris' },
      { email: 'ok@example.com', given_name: 'Ada', role: 'Admin', location: 'Berlin' },
    ]);
    const after = await allRows(ctx.app, ws.token, imp.id);
    expect(after.map((r) => [r.row, r.status])).toEqual([
      [2, 'created'],
      [3, 'created'],
      [4, 'created'],
      [5, 'created'],
      [6, 'created'],
    ]);
    expect(after[2].fixes).toEqual({ role: { from: 'Fleet boss', to: 'Fleet manager' } });

    // The report shows the values that ran, so that uploading it again carries the corrections.
    const report = await ctx.app.inject({
      method: 'GET',
      url: `/v1/imports/${imp.id}/report.csv`,
      headers: { authorization: `Bearer ${ws.token}` },
    });
    const lines = report.body.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines[2]).toMatch(/^bob@example\.com,Bob,Builder,Admin,Berlin,3,created,/);
    expect(lines[3]).toMatch(/^cy@example\.com,Cy,Young,Fleet manager,Berlin,4,created,/);
  });

  it('refuses a correction that is not valid, naming the problem, and changes nothing', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Fleet manager'], locations: ['Berlin'] });
    const imp = await finishedImport(ws.token);
    const cases: [unknown, number, string][] = [
      [{ email: 'not-an-address' }, 400, 'invalid_email'],
      [{ email: '' }, 400, 'missing_email'],
      [{ role: 'Pilot' }, 400, 'unknown_role'],
      [{ location: 'Atlantis' }, 400, 'unknown_location'],
      [{ givenName: 'x'.repeat(201) }, 400, 'name_too_long'],
      [{}, 400, 'validation_failed'],
      [{ userName: 'x' }, 400, 'validation_failed'],
      [{ email: 42 }, 400, 'invalid_email'], // read as the text '42', as a cell would be
      [{ email: { value: 'a@example.com' } }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await fix(ws.token, imp.id, 3, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const unknownRole = await fix(ws.token, imp.id, 4, { role: 'Pilot' });
    expect(unknownRole.body.error.roles).toEqual(['Admin', 'Fleet manager']);
    const rows = await allRows(ctx.app, ws.token, imp.id);
    expect(rows.every((r) => r.fixes === null)).toBe(true);
    expect(rows[1]).toMatchObject({ email: 'bob@example', errorCode: 'invalid_email' });
  });

  it('only failed rows of finished imports: 409 otherwise, 404 for an unknown row or import', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['Berlin'] });
    const imp = await finishedImport(ws.token);
    const created = await fix(ws.token, imp.id, 2, { email: 'x@example.com' });
    expect([created.status, created.body.error.code, created.body.error.status]).toEqual([
      409,
      'row_not_failed',
      'created',
    ]);
    expect((await fix(ws.token, imp.id, 99, { email: 'x@example.com' })).body.error.code).toBe(
      'row_not_found',
    );
    expect((await fix(ws.token, imp.id, 0, { email: 'x@example.com' })).status).toBe(400);
    expect((await fix(ws.token, imp.id, 'two', { email: 'x@example.com' })).status).toBe(400);
    expect(
      (await fix(ws.token, '00000000-0000-7000-8000-000000000000', 3, { email: 'x@example.com' })).body.error
        .code,
    ).toBe('import_not_found');
    const other = await makeWorkspace(ctx.db);
    expect((await fix(other.token, imp.id, 3, { email: 'x@example.com' })).status).toBe(404);

    // A running import: its rows are still being written.
    await ctx.db.updateTable('imports').set({ status: 'processing' }).where('id', '=', imp.id).execute();
    const running = await fix(ws.token, imp.id, 3, { email: 'x@example.com' });
    expect([running.status, running.body.error.code]).toEqual([409, 'import_not_finished']);
    const [row] = await ctx.db
      .selectFrom('import_rows')
      .select(['email', 'fixes'])
      .where('import_id', '=', imp.id)
      .where('row_number', '=', 3)
      .execute();
    expect(row).toEqual({ email: 'bob@example', fixes: null });
  });

  it('a dry run: corrected rows preview again on retry, and apply runs them as corrected', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Fleet manager'], locations: ['Berlin'] });
    const preview = await finishedImport(ws.token, 'dryRun=true');
    expect(preview.counts).toMatchObject({ created: 1, failed: 4 });
    expect((await fix(ws.token, preview.id, 3, { email: 'bob@example.com' })).status).toBe(200);
    expect((await fix(ws.token, preview.id, 4, { role: '' })).body.role).toBeNull();
    await call(ctx.app, 'POST', `/v1/imports/${preview.id}/retry`, { token: ws.token });
    const again = await waitForImport(ctx.app, ws.token, preview.id);
    expect(again.counts).toMatchObject({ created: 3, failed: 2 });
    expect(await usersOf(ws.workspaceId)).toEqual([]);

    const applied = await call(ctx.app, 'POST', `/v1/imports/${preview.id}/apply`, { token: ws.token });
    expect(applied.status).toBe(202);
    const real = await waitForImport(ctx.app, ws.token, applied.body.id);
    expect(real.counts).toMatchObject({ created: 3, failed: 2 });
    expect((await usersOf(ws.workspaceId)).map((u) => [u.email, u.role])).toEqual([
      ['bob@example.com', 'Admin'],
      ['cy@example.com', 'Admin'], // no role: the default
      ['ok@example.com', 'Admin'],
    ]);
    const rows = await allRows(ctx.app, ws.token, applied.body.id);
    expect(rows[1].fixes).toEqual({ email: { from: 'bob@example', to: 'bob@example.com' } });
  });
});
