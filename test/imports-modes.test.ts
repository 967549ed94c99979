import { describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { allRows, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '4' });
useTestWorkers(ctx);

const run = async (token: string, csv: string, query = '') => {
  const res = await upload(ctx.app, token, csv, query);
  expect(res.status).toBe(202);
  return waitForImport(ctx.app, token, res.body.id);
};

describe('create mode', () => {
  it('skips existing users as already_exists (completed, not with errors) and reports every error code', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London'] });
    await run(ws.token, 'email,name\nold@example.com,Old One\n');
    const csv = [
      'email,name,role,location',
      'old@example.com,Old Again,,',
      ',No Mail,,',
      'not-an-email,Bad Mail,,',
      'new@example.com,,,',
      `long@example.com,${'x'.repeat(201)},,`,
      'ghost@example.com,Ghost,Sales,',
      'nowhere@example.com,Nowhere,,Atlantis',
      'dup@example.com,First,,',
      'DUP@example.com,Second,,',
      'short@example.com,Short',
      'ok@example.com,Fine Person,agent,london',
    ].join('\n');
    const done = await run(ws.token, csv);
    expect(done.status).toBe('completed_with_errors');
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.row, r.status, r.errorCode])).toEqual([
      [2, 'skipped', 'already_exists'],
      [3, 'failed', 'missing_email'],
      [4, 'failed', 'invalid_email'],
      [5, 'failed', 'missing_name'],
      [6, 'failed', 'name_too_long'],
      [7, 'failed', 'unknown_role'],
      [8, 'failed', 'unknown_location'],
      [9, 'created', null],
      [10, 'failed', 'duplicate_in_file'],
      [11, 'failed', 'malformed_row'],
      [12, 'created', null],
    ]);
    expect(rows[5].errorMessage).toBe(
      "Role 'Sales' does not exist in this workspace; existing roles: Admin, Agent.",
    );
    expect(rows[8].errorMessage).toContain('row 9');
    expect(done.counts).toEqual({
      created: 2,
      updated: 0,
      unchanged: 0,
      skipped: 1,
      failed: 8,
      deactivated: 0,
      deleted: 0,
      invited: 2,
    });
    const skipsOnly = await run(ws.token, 'email,name\nok@example.com,Fine Person\n');
    expect(skipsOnly.status).toBe('completed');
  });

  it('fills empty role cells with defaultRole and refuses an unknown one with 422', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'] });
    const done = await run(
      ws.token,
      'email,name,role\na@example.com,A,\nb@example.com,B,Admin\n',
      'defaultRole=agent',
    );
    expect(done.counts.created).toBe(2);
    const users = await call(ctx.app, 'GET', '/v1/users', { token: ws.token });
    expect(users.body.data.map((u: any) => u.role.name)).toEqual(['Agent', 'Admin']);
    const bad = await upload(ctx.app, ws.token, 'email,name\nc@example.com,C\n', 'defaultRole=Nobody');
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('unknown_default_role');
  });

  it('creates users without invitations when sendInvites is false', async () => {
    const ws = await makeWorkspace(ctx.db);
    const done = await run(ws.token, 'email,name\nq@example.com,Quiet\n', 'sendInvites=false');
    expect(done.counts).toMatchObject({ created: 1, invited: 0 });
    expect((await allRows(ctx.app, ws.token, done.id))[0].invitation).toBe('not_sent');
  });

  it('completes a header-only file with zero rows', async () => {
    const ws = await makeWorkspace(ctx.db);
    const done = await run(ws.token, 'email,name\n');
    expect(done).toMatchObject({ status: 'completed', totalRows: 0, processedRows: 0 });
  });
});

describe('upsert mode', () => {
  it('updates existing users, leaves empty cells alone and reactivates the deactivated', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London', 'Paris'] });
    await run(
      ws.token,
      'email,name,role,location\nu1@example.com,U One,Agent,London\nu2@example.com,U Two,Agent,London\n',
    );
    const u2 = (await call(ctx.app, 'GET', '/v1/users?q=u2@', { token: ws.token })).body.data[0];
    await call(ctx.app, 'PATCH', `/v1/users/${u2.id}`, { token: ws.token, body: { status: 'deactivated' } });
    const done = await run(
      ws.token,
      'email,name,role,location\nU1@example.com,,Admin,\nu2@example.com,U Two,Agent,London\nu3@example.com,U Three,,Paris\n',
      'mode=upsert',
    );
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => r.status)).toEqual(['updated', 'updated', 'created']);
    const users = (await call(ctx.app, 'GET', '/v1/users', { token: ws.token })).body.data;
    expect(users.map((u: any) => [u.email, u.name, u.role.name, u.location?.name, u.status])).toEqual([
      ['u1@example.com', 'U One', 'Admin', 'London', 'invited'],
      ['u2@example.com', 'U Two', 'Agent', 'London', 'invited'],
      ['u3@example.com', 'U Three', 'Admin', 'Paris', 'invited'],
    ]);
    const again = await run(ws.token, 'email,name\nu3@example.com,U Three\n', 'mode=upsert');
    expect(again.counts.unchanged).toBe(1);
  });
});

describe('sync mode', () => {
  it('deactivates active and invited users absent from the file, but never identity-provider users', async () => {
    const ws = await makeWorkspace(ctx.db);
    const emails = Array.from({ length: 12 }, (_, i) => `s${i}@example.com`);
    await run(ws.token, `email,name\n${emails.map((e) => `${e},S`).join('\n')}\n`);
    const scimUser = (await call(ctx.app, 'GET', '/v1/users?q=s11@', { token: ws.token })).body.data[0];
    await ctx.db.updateTable('users').set({ managed_by: 'scim' }).where('id', '=', scimUser.id).execute();
    // The file keeps s0..s9 (s9's row fails, and still counts as present).
    const csv = `email,name,role\n${emails
      .slice(0, 9)
      .map((e) => `${e},S,`)
      .join('\n')}\ns9@example.com,S,Ghost\n`;
    const done = await run(ws.token, csv, 'mode=sync');
    expect(done.counts).toMatchObject({ deactivated: 1, failed: 1 });
    const rows = await allRows(ctx.app, ws.token, done.id, 'deactivated');
    expect(rows).toEqual([
      expect.objectContaining({ row: null, email: 's10@example.com', status: 'deactivated' }),
    ]);
    const status = async (q: string) =>
      (await call(ctx.app, 'GET', `/v1/users?q=${q}`, { token: ws.token })).body.data[0].status;
    expect(await status('s10@')).toBe('deactivated');
    expect(await status('s11@')).toBe('invited');
    expect(await status('s9@')).toBe('invited');
  });

  it('refuses an empty sync file and fails past the safety threshold unless confirmed', async () => {
    const ws = await makeWorkspace(ctx.db);
    const emails = Array.from({ length: 15 }, (_, i) => `t${i}@example.com`);
    await run(ws.token, `email,name\n${emails.map((e) => `${e},T`).join('\n')}\n`);
    const empty = await upload(ctx.app, ws.token, 'email,name\n', 'mode=sync');
    expect(empty.status).toBe(422);
    expect(empty.body.error.code).toBe('sync_empty_file');
    const keepOne = 'email,name\nt0@example.com,T\n';
    const dry = await run(ws.token, keepOne, 'mode=sync&dryRun=true');
    expect(dry).toMatchObject({
      status: 'completed',
      counts: { deactivated: 14 },
      error: { code: 'sync_threshold_exceeded' },
    });
    expect(dry.error.message).toContain('confirmDeactivations=14');
    const refused = await run(ws.token, keepOne, 'mode=sync');
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'sync_threshold_exceeded' } });
    expect(
      (await call(ctx.app, 'GET', '/v1/users?status=deactivated', { token: ws.token })).body.data,
    ).toEqual([]);
    const confirmed = await run(ws.token, keepOne, 'mode=sync&confirmDeactivations=14');
    expect(confirmed).toMatchObject({ status: 'completed', counts: { deactivated: 14, unchanged: 1 } });
  });
});

describe('dry run and apply', () => {
  it('computes the same statuses, writes nothing, and apply runs it for real as a new import', async () => {
    const ws = await makeWorkspace(ctx.db);
    await run(ws.token, 'email,name\nexisting@example.com,E\n');
    const dry = await run(
      ws.token,
      'email,name\nexisting@example.com,E\nfresh@example.com,F\nbad@,B\n',
      'dryRun=true',
    );
    const dryRows = await allRows(ctx.app, ws.token, dry.id);
    expect(dryRows.map((r) => r.status)).toEqual(['skipped', 'created', 'failed']);
    expect(dryRows[0].userId).toEqual(expect.any(String));
    expect(dryRows[1].userId).toBeNull();
    expect((await call(ctx.app, 'GET', '/v1/users?q=fresh', { token: ws.token })).body.data).toEqual([]);
    const applied = await call(ctx.app, 'POST', `/v1/imports/${dry.id}/apply`, { token: ws.token });
    expect(applied.status).toBe(202);
    expect(applied.body.id).not.toBe(dry.id);
    expect(applied.body.dryRun).toBe(false);
    const real = await waitForImport(ctx.app, ws.token, applied.body.id);
    expect((await allRows(ctx.app, ws.token, real.id)).map((r) => r.status)).toEqual([
      'skipped',
      'created',
      'failed',
    ]);
    expect((await call(ctx.app, 'GET', '/v1/users?q=fresh', { token: ws.token })).body.data).toHaveLength(1);
    const notDry = await call(ctx.app, 'POST', `/v1/imports/${real.id}/apply`, { token: ws.token });
    expect(notDry.status).toBe(409);
  });
});
