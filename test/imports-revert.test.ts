import { describe, expect, it } from 'vitest';
import { currentToken } from '../src/provisioning/invitation-tokens.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { allRows, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '2' });
useTestWorkers(ctx);

async function run(token: string, csv: string, query = '') {
  const up = await upload(ctx.app, token, csv, query);
  expect(up.status, JSON.stringify(up.body)).toBe(202);
  return waitForImport(ctx.app, token, up.body.id);
}

async function revert(token: string, id: string, dryRun = false) {
  const res = await call(ctx.app, 'POST', `/v1/imports/${id}/revert`, { token, body: { dryRun } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ kind: 'revert', revertOf: id, dryRun });
  return waitForImport(ctx.app, token, res.body.id);
}

const users = (workspaceId: string) =>
  ctx.db
    .selectFrom('users as u')
    .innerJoin('roles as r', 'r.id', 'u.role_id')
    .leftJoin('locations as l', 'l.id', 'u.location_id')
    .select(['u.email', 'u.given_name', 'u.status', 'u.deleted_at', 'r.name as role', 'l.name as location'])
    .where('u.workspace_id', '=', workspaceId)
    .orderBy('u.email')
    .execute();

const live = async (workspaceId: string) =>
  (await users(workspaceId)).filter((u) => u.deleted_at === null).map(({ deleted_at: _d, ...u }) => u);

describe('POST /v1/imports/:id/revert', () => {
  it('undoes a create import: a dry run first (nothing changes), then the users are deleted and their invitations revoked', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'] });
    await call(ctx.app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Kept', email: 'kept@example.com', role: 'Admin', sendInvite: false },
    });
    const imp = await run(
      ws.token,
      'email,name\nn1@example.com,N1\nn2@example.com,N2\nn3@example.com,N3\nbad,Bad\n',
    );
    expect(imp.counts).toMatchObject({ created: 3, failed: 1 });
    const before = await live(ws.workspaceId);

    const preview = await revert(ws.token, imp.id, true);
    expect(preview).toMatchObject({ status: 'completed', totalRows: 3, counts: { deleted: 3 } });
    expect(await live(ws.workspaceId)).toEqual(before);
    expect(
      (await call(ctx.app, 'GET', `/v1/imports/${imp.id}`, { token: ws.token })).body.revertedBy,
    ).toBeNull();

    const done = await revert(ws.token, imp.id);
    expect(done).toMatchObject({ status: 'completed', counts: { deleted: 3, failed: 0 } });
    expect((await live(ws.workspaceId)).map((u) => u.email)).toEqual(['kept@example.com']);
    // The revert's rows carry the original's row numbers.
    expect((await allRows(ctx.app, ws.token, done.id)).map((r) => [r.row, r.status])).toEqual([
      [2, 'deleted'],
      [3, 'deleted'],
      [4, 'deleted'],
    ]);
    const invitations = await ctx.db
      .selectFrom('invitations as i')
      .innerJoin('users as u', 'u.id', 'i.user_id')
      .select(['i.status', 'i.send_state'])
      .where('i.workspace_id', '=', ws.workspaceId)
      .where('u.email', 'like', 'n%')
      .execute();
    expect(invitations.map((i) => i.status)).toEqual(['revoked', 'revoked', 'revoked']);
    const original = (await call(ctx.app, 'GET', `/v1/imports/${imp.id}`, { token: ws.token })).body;
    expect(original.revertedBy).toBe(done.id);
    // The journal: one user.deleted per user, source revert:<the revert's id>, then import.reverted on
    // the original once the revert completed.
    const journal = await call(ctx.app, 'GET', `/v1/audit?source=revert:${done.id}`, { token: ws.token });
    expect(journal.body.data.map((e: { action: string }) => e.action)).toEqual([
      'import.reverted',
      'user.deleted',
      'user.deleted',
      'user.deleted',
    ]);
    expect(journal.body.data[0]).toMatchObject({
      targetType: 'import',
      targetId: imp.id,
      details: { revertId: done.id, status: 'completed', counts: { deleted: 3 } },
    });

    // Once is enough; a revert is not itself revertible; a dry run neither.
    const again = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, { token: ws.token, body: {} });
    expect([again.status, again.body.error.code]).toEqual([409, 'import_already_reverted']);
    const ofRevert = await call(ctx.app, 'POST', `/v1/imports/${done.id}/revert`, { token: ws.token });
    expect([ofRevert.status, ofRevert.body.error.code]).toEqual([409, 'import_not_revertible']);
    const ofPreview = await call(ctx.app, 'POST', `/v1/imports/${preview.id}/revert`, { token: ws.token });
    expect([ofPreview.status, ofPreview.body.error.code]).toEqual([409, 'import_not_revertible']);
  });

  it('undoes an upsert: changed fields go back; a user changed since, or who accepted since, is left alone', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London', 'Paris'] });
    await run(
      ws.token,
      'email,first name,last name,role,location\nu1@example.com,Ann,One,Agent,London\nu2@example.com,Bo,Two,Agent,London\nu3@example.com,Cy,Three,Agent,London\nu4@example.com,Di,Four,Agent,London\n',
    );
    const before = await live(ws.workspaceId);
    const upsert = await run(
      ws.token,
      'email,first name,last name,role,location\nu1@example.com,Anna,One,Admin,Paris\nu2@example.com,Bob,Two,Admin,\nu3@example.com,Cyd,Three,Agent,London\nu4@example.com,Dina,Four,Admin,London\nu5@example.com,New,Five,Agent,Paris\n',
      'mode=upsert',
    );
    expect(upsert.counts).toMatchObject({ updated: 4, created: 1 });
    // After the import: u3 is edited by hand, u4 accepts the invitation.
    const u3 = (await call(ctx.app, 'GET', '/v1/users?q=u3@', { token: ws.token })).body.data[0];
    await call(ctx.app, 'PATCH', `/v1/users/${u3.id}`, { token: ws.token, body: { location: 'Paris' } });
    const u4 = (await call(ctx.app, 'GET', '/v1/users?q=u4@', { token: ws.token })).body.data[0];
    const inv = await ctx.db
      .selectFrom('invitations')
      .select(['workspace_id', 'id'])
      .where('user_id', '=', u4.id)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    const token = currentToken(inv.workspace_id, inv.id);
    expect((await call(ctx.app, 'POST', '/v1/invitations/accept', { body: { token } })).status).toBe(200);

    const done = await revert(ws.token, upsert.id);
    expect(done.counts).toMatchObject({ updated: 2, deleted: 1, skipped: 2, failed: 0 });
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.row, r.status, r.errorCode])).toEqual([
      [2, 'updated', null],
      [3, 'updated', null],
      [4, 'skipped', 'changed_since_import'],
      [5, 'skipped', 'changed_since_import'],
      [6, 'deleted', null],
    ]);
    const after = await live(ws.workspaceId);
    expect(after.find((u) => u.email === 'u1@example.com')).toEqual(
      before.find((u) => u.email === 'u1@example.com'),
    );
    expect(after.find((u) => u.email === 'u2@example.com')).toEqual(
      before.find((u) => u.email === 'u2@example.com'),
    );
    expect(after.find((u) => u.email === 'u3@example.com')).toMatchObject({
      given_name: 'Cyd',
      location: 'Paris',
    });
    expect(after.find((u) => u.email === 'u4@example.com')).toMatchObject({
      given_name: 'Dina',
      status: 'active',
    });
    expect(after.find((u) => u.email === 'u5@example.com')).toBeUndefined();
  });

  it('undoes a sync: the deactivated come back to the status they had', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'] });
    await run(
      ws.token,
      'email,name\ns1@example.com,S1\ns2@example.com,S2\ns3@example.com,S3\n',
      'sendInvites=false',
    );
    const before = await live(ws.workspaceId);
    const sync = await run(ws.token, 'email,name\ns1@example.com,S1\n', 'mode=sync&confirmDeactivations=2');
    expect(sync.counts.deactivated).toBe(2);
    const done = await revert(ws.token, sync.id);
    expect(done.counts).toMatchObject({ updated: 2 });
    expect((await live(ws.workspaceId)).map((u) => [u.email, u.status])).toEqual(
      before.map((u) => [u.email, u.status]),
    );
  });

  it('refuses what cannot be reverted, with its code, and starts nothing', async () => {
    const ws = await makeWorkspace(ctx.db);
    const unknown = await call(ctx.app, 'POST', '/v1/imports/00000000-0000-7000-8000-000000000009/revert', {
      token: ws.token,
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'import_not_found']);
    const imp = await run(ws.token, 'email,name\np1@example.com,P1\n');
    const bad = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, {
      token: ws.token,
      body: { dryRun: 'maybe' },
    });
    expect(bad.status).toBe(400);
    await ctx.db.updateTable('imports').set({ status: 'processing' }).where('id', '=', imp.id).execute();
    const running = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, { token: ws.token });
    expect([running.status, running.body.error.code]).toEqual([409, 'import_not_revertible']);
    await ctx.db
      .updateTable('imports')
      .set({ status: 'completed', purged_at: new Date() })
      .where('id', '=', imp.id)
      .execute();
    const purged = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, { token: ws.token });
    expect([purged.status, purged.body.error.code]).toEqual([410, 'import_expired']);
    const other = await makeWorkspace(ctx.db);
    const foreign = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, { token: other.token });
    expect(foreign.status).toBe(404);
    const reverts = await ctx.db
      .selectFrom('imports')
      .select('id')
      .where('workspace_id', '=', ws.workspaceId)
      .where('kind', '=', 'revert')
      .execute();
    expect(reverts).toEqual([]);
  });

  it('leaves alone rows imported before versions and the journal were kept, and takes no row corrections', async () => {
    const ws = await makeWorkspace(ctx.db);
    const imp = await run(ws.token, 'email,name\nold1@example.com,Old One\nold2@example.com,Old Two\n');
    // As an import from before this stage left them: no version on the row, no journal events.
    await ctx.db
      .updateTable('import_rows')
      .set({ user_version: null })
      .where('import_id', '=', imp.id)
      .execute();
    await ctx.db.deleteFrom('audit_events').where('source', '=', `csv:${imp.id}`).execute();
    const done = await revert(ws.token, imp.id);
    expect(done.counts).toMatchObject({ deleted: 0, skipped: 2, failed: 0 });
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => r.errorCode)).toEqual(['not_journaled', 'not_journaled']);
    expect((await live(ws.workspaceId)).map((u) => u.email)).toEqual([
      'old1@example.com',
      'old2@example.com',
    ]);
    const fix = await call(ctx.app, 'PATCH', `/v1/imports/${done.id}/rows/2`, {
      token: ws.token,
      body: { email: 'x@example.com' },
    });
    expect([fix.status, fix.body.error.code]).toEqual([409, 'row_not_fixable']);
  });

  it('applies a revert dry run as a revert planned afresh', async () => {
    const ws = await makeWorkspace(ctx.db);
    const imp = await run(ws.token, 'email,name\na1@example.com,A1\na2@example.com,A2\n');
    const preview = await revert(ws.token, imp.id, true);
    const applied = await call(ctx.app, 'POST', `/v1/imports/${preview.id}/apply`, { token: ws.token });
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({ kind: 'revert', revertOf: imp.id, dryRun: false });
    const done = await waitForImport(ctx.app, ws.token, applied.body.id);
    expect(done.counts.deleted).toBe(2);
    expect(await live(ws.workspaceId)).toEqual([]);
  });
});
