import { describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeUser, makeWorkspace } from './support/factories.js';

const ctx = useTestContext();

async function addUsers(token: string, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await makeUser(ctx.app, token, {
      name: `${tag} ${i}`,
      email: `${tag}${i}@example.com`,
      role: 'Member',
      sendInvite: i % 2 === 0,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}

const bulk = (token: string, body: unknown) => call(ctx.app, 'POST', '/v1/users/bulk', { token, body });

const state = (workspaceId: string) =>
  ctx.db
    .selectFrom('users as u')
    .innerJoin('roles as r', 'r.id', 'u.role_id')
    .leftJoin('locations as l', 'l.id', 'u.location_id')
    .select(['u.id', 'u.status', 'u.deleted_at', 'r.name as role', 'l.name as location', 'u.version'])
    .where('u.workspace_id', '=', workspaceId)
    .orderBy('u.email')
    .execute();

describe('POST /v1/users/bulk', () => {
  it('deactivates, sets role and location, reactivates and deletes, answering per id, each journaled as bulk', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Member'], locations: ['London', 'Paris'] });
    const other = await makeWorkspace(ctx.db, { roles: ['Member'] });
    const ids = await addUsers(ws.token, 4, 'b');
    const [foreign] = await addUsers(other.token, 1, 'f');
    const unknown = '00000000-0000-7000-8000-000000000001';

    const off = await bulk(ws.token, { action: 'deactivate', ids: [...ids.slice(0, 3), foreign, unknown] });
    expect(off.status).toBe(200);
    expect(off.body.counts).toEqual({
      updated: 3,
      unchanged: 0,
      deleted: 0,
      invited: 0,
      skipped: 0,
      failed: 2,
    });
    expect(off.body.results.slice(3)).toEqual([
      { id: foreign, status: 'failed', errorCode: 'not_found', errorMessage: expect.any(String) },
      { id: unknown, status: 'failed', errorCode: 'not_found', errorMessage: expect.any(String) },
    ]);
    // Nothing of the other workspace shows, and it is untouched.
    expect(JSON.stringify(off.body)).not.toContain('f0@example.com');
    expect((await state(other.workspaceId))[0]).toMatchObject({ status: 'invited', version: 1 });
    expect((await state(ws.workspaceId)).map((u) => u.status)).toEqual([
      'deactivated',
      'deactivated',
      'deactivated',
      'invited',
    ]);

    const again = await bulk(ws.token, { action: 'deactivate', ids: [ids[0]] });
    expect(again.body.results[0].status).toBe('unchanged');

    const role = await bulk(ws.token, { action: 'set_role', ids, value: 'admin' });
    expect(role.body.counts.updated).toBe(4);
    const place = await bulk(ws.token, { action: 'set_location', ids: ids.slice(0, 2), value: 'Paris' });
    expect(place.body.counts.updated).toBe(2);
    const none = await bulk(ws.token, { action: 'set_location', ids: [ids[0]], value: null });
    expect(none.body.counts.updated).toBe(1);
    // None of them ever accepted: back to invited, each with a new invitation.
    const back = await bulk(ws.token, { action: 'reactivate', ids: ids.slice(0, 3) });
    expect(back.body.counts.updated).toBe(3);
    expect((await state(ws.workspaceId)).map((u) => [u.status, u.role, u.location])).toEqual([
      ['invited', 'Admin', null],
      ['invited', 'Admin', 'Paris'],
      ['invited', 'Admin', null],
      ['invited', 'Admin', null],
    ]);

    const gone = await bulk(ws.token, { action: 'delete', ids: [ids[3]] });
    expect(gone.body.results[0]).toMatchObject({ id: ids[3], status: 'deleted' });
    expect((await state(ws.workspaceId))[3]!.deleted_at).not.toBeNull();

    const journal = await call(ctx.app, 'GET', '/v1/audit?source=bulk&limit=1000', { token: ws.token });
    const actions = journal.body.data.map((e: { action: string }) => e.action);
    expect(actions.filter((a: string) => a === 'user.deactivated')).toHaveLength(3);
    expect(actions.filter((a: string) => a === 'user.reactivated')).toHaveLength(3);
    expect(actions).toContain('user.deleted');
    expect(journal.body.data.every((e: { source: string }) => e.source === 'bulk')).toBe(true);
  });

  it('resends invitations to the invited ones, skipping the others', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Member'] });
    const ids = await addUsers(ws.token, 2, 'r');
    await bulk(ws.token, { action: 'deactivate', ids: [ids[1]] }); // r1 is no longer invited
    const res = await bulk(ws.token, { action: 'resend_invitation', ids });
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['invited', 'skipped']);
    expect(res.body.results[1].errorCode).toBe('user_not_invited');
    const invitations = await ctx.db
      .selectFrom('invitations')
      .select(['user_id', 'status'])
      .where('workspace_id', '=', ws.workspaceId)
      .orderBy('created_at')
      .execute();
    expect(invitations.map((i) => i.status)).toEqual(['revoked', 'pending']);
  });

  it('refuses bad input with a clear 400 and changes nothing', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Member'], locations: ['London'] });
    const ids = await addUsers(ws.token, 1, 'x');
    const before = await state(ws.workspaceId);
    const many = Array.from(
      { length: 1001 },
      (_, i) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    const cases: [unknown, string][] = [
      [{ action: 'explode', ids }, 'validation_failed'],
      [{ action: 'deactivate', ids: [] }, 'validation_failed'],
      [{ action: 'deactivate', ids: many }, 'validation_failed'],
      [{ action: 'deactivate', ids: ['not-a-uuid'] }, 'validation_failed'],
      [{ action: 'deactivate', ids: [ids[0], ids[0]] }, 'validation_failed'],
      [{ action: 'set_role', ids }, 'missing_value'],
      [{ action: 'set_location', ids }, 'missing_value'],
      [{ action: 'deactivate', ids, value: 'x' }, 'unexpected_value'],
    ];
    for (const [body, code] of cases) {
      const res = await bulk(ws.token, body);
      expect([res.status, res.body.error?.code], JSON.stringify(body).slice(0, 80)).toEqual([400, code]);
    }
    const unknownRole = await bulk(ws.token, { action: 'set_role', ids, value: 'Pilot' });
    expect(unknownRole.body.results[0]).toMatchObject({ status: 'failed', errorCode: 'unknown_role' });
    expect(await state(ws.workspaceId)).toEqual(before);
  });
});
