import { describe, expect, it } from 'vitest';
import { purgeAudit, uuidv7Floor } from '../src/users/audit.repository.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';
import { workbook, XLSX_TYPE } from './support/workbooks.js';

/** Imports are journaled like every other front door: one event per changed user, with from and to. */
const ctx = useTestContext({ BATCH_SIZE: '2' });
useTestWorkers(ctx);

async function run(token: string, body: string | Buffer, query = '', headers: Record<string, string> = {}) {
  const up = await upload(ctx.app, token, body, query, headers);
  expect(up.status, JSON.stringify(up.body)).toBe(202);
  return waitForImport(ctx.app, token, up.body.id);
}

async function audit(token: string, query: string) {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(
      ctx.app,
      'GET',
      `/v1/audit?limit=1000&${query}${cursor ? `&cursor=${cursor}` : ''}`,
      {
        token,
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

const byEmail = (events: any[]) =>
  Object.fromEntries(events.map((e) => [e.changes?.email?.to ?? e.userId, e]));

describe('the journal of imports', () => {
  it('a CSV import writes one event per created, updated and deactivated user, with from and to', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London', 'Paris'] });
    const prefix = ws.token.split('_').slice(0, 2).join('_');
    const first = await run(
      ws.token,
      'email,name,role,location\na@example.com,Ann,Agent,London\nb@example.com,Bo,Agent,London\nc@example.com,Cy,Agent,\n',
    );
    const created = await audit(ws.token, `source=csv:${first.id}&targetType=user`);
    expect(created).toHaveLength(3);
    expect(created.every((e) => e.action === 'user.created' && e.actor === prefix)).toBe(true);
    expect(byEmail(created)['a@example.com'].changes).toMatchObject({
      email: { from: null, to: 'a@example.com' },
      status: { from: null, to: 'invited' },
    });
    // source=csv matches every import; the import's own entry closes it, in the same source.
    expect((await audit(ws.token, 'source=csv')).map((e) => e.action)).toEqual([
      'import.completed',
      ...created.map(() => 'user.created'),
    ]);
    const [completed] = await audit(ws.token, `source=csv:${first.id}&targetType=import`);
    expect(completed).toMatchObject({
      actor: prefix,
      action: 'import.completed',
      targetId: first.id,
      userId: null,
      changes: { status: { from: 'processing', to: 'completed' } },
      details: { status: 'completed', counts: { created: 3, failed: 0 } },
    });

    // A dry run writes nothing, to the users or to the journal.
    const preview = await run(
      ws.token,
      'email,name,role\na@example.com,Ann,Admin\n',
      'mode=upsert&dryRun=true',
    );
    expect(preview.counts.updated).toBe(1);
    expect(await audit(ws.token, `source=csv:${preview.id}`)).toEqual([]);

    const sync = await run(
      ws.token,
      'email,name,role,location\na@example.com,Ann,Admin,Paris\nb@example.com,Bo,Agent,London\n',
      'mode=sync',
    );
    const events = await audit(ws.token, `source=csv:${sync.id}&targetType=user`);
    expect(events.map((e) => e.action).sort()).toEqual(['user.deactivated', 'user.updated']);
    const updated = events.find((e) => e.action === 'user.updated');
    // Fields as stored: role and location by id, so that a revert restores exactly what was there.
    const ids = async (table: 'roles' | 'locations') =>
      Object.fromEntries(
        (
          await ctx.db
            .selectFrom(table)
            .select(['id', 'name'])
            .where('workspace_id', '=', ws.workspaceId)
            .execute()
        ).map((r) => [r.name, r.id]),
      );
    const roles = await ids('roles');
    const locations = await ids('locations');
    expect(updated.changes).toMatchObject({
      role_id: { from: roles.Agent, to: roles.Admin },
      direct_role_id: { from: roles.Agent, to: roles.Admin },
      location_id: { from: locations.London, to: locations.Paris },
    });
    expect(updated.changes).not.toHaveProperty('email');
    const deactivated = events.find((e) => e.action === 'user.deactivated');
    expect(deactivated.changes).toMatchObject({ status: { from: 'invited', to: 'deactivated' } });
    // Each event names the user; the state it describes is the state the users are in.
    const users = await ctx.db
      .selectFrom('users')
      .select(['id', 'email', 'status'])
      .where('workspace_id', '=', ws.workspaceId)
      .execute();
    const status = Object.fromEntries(users.map((u) => [u.id, u.status]));
    expect(status[deactivated.userId]).toBe('deactivated');
  });

  it('an import with failed rows ends with import.completed saying completed_with_errors', async () => {
    const ws = await makeWorkspace(ctx.db);
    const imp = await run(ws.token, 'email,name\nok@example.com,Ok\nnot-an-address,Bad\n');
    expect(imp.status).toBe('completed_with_errors');
    const [entry, ...others] = await audit(ws.token, `source=csv:${imp.id}&targetType=import`);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      action: 'import.completed',
      targetId: imp.id,
      changes: { status: { from: 'processing', to: 'completed_with_errors' } },
      details: { status: 'completed_with_errors', counts: { created: 1, failed: 1 } },
    });
  });

  it('an Excel import is journaled the same way', async () => {
    const ws = await makeWorkspace(ctx.db);
    const bytes = await workbook([
      {
        name: 'Staff',
        rows: [
          ['Email', 'Name'],
          ['x1@example.com', 'X One'],
          ['x2@example.com', 'X Two'],
        ],
      },
    ]);
    const imp = await run(ws.token, bytes, '', { 'content-type': XLSX_TYPE });
    expect(imp.status).toBe('completed');
    const events = await audit(ws.token, `source=csv:${imp.id}&targetType=user`);
    expect(events.map((e) => e.changes.email.to).sort()).toEqual(['x1@example.com', 'x2@example.com']);
  });

  it('GET /v1/audit takes until (exclusive) beside since (inclusive); a bad date is 400', async () => {
    const ws = await makeWorkspace(ctx.db);
    await run(ws.token, 'email,name\nt1@example.com,T1\n');
    const [event] = await audit(ws.token, 'source=csv&action=user.created');
    const at = event.createdAt as string;
    expect(await audit(ws.token, `until=${encodeURIComponent(at)}`)).toEqual([]);
    // The import's own entry comes after its users' (it is written when the import ends).
    const since = await audit(ws.token, `since=${encodeURIComponent(at)}`);
    expect(since.map((e) => e.action)).toEqual(['import.completed', 'user.created']);
    expect(since[1].id).toBe(event.id);
    const later = new Date(Date.parse(at) + 1).toISOString();
    expect(
      (await audit(ws.token, `until=${encodeURIComponent(later)}&targetType=user`)).map((e) => e.id),
    ).toEqual([event.id]);
    const bad = await call(ctx.app, 'GET', '/v1/audit?until=yesterday', { token: ws.token });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_until']);
  });
});

describe('AUDIT_RETENTION_DAYS', () => {
  it('purges events older than the retention, in batches along the key, keeping the rest', async () => {
    const ws = await makeWorkspace(ctx.db);
    const other = await makeWorkspace(ctx.db);
    const day = 86_400_000;
    const idAt = (daysAgo: number, n: number) =>
      uuidv7Floor(new Date(Date.now() - daysAgo * day)).replace(/0{12}$/, String(n).padStart(12, '0'));
    const rows = [
      ...[1, 2, 3, 4, 5].map((n) => ({ workspace_id: ws.workspaceId, id: idAt(400, n) })),
      { workspace_id: other.workspaceId, id: idAt(366, 1) },
      { workspace_id: ws.workspaceId, id: idAt(364, 1) },
    ];
    await ctx.db
      .insertInto('audit_events')
      .values(
        rows.map((r) => ({
          ...r,
          actor: 'test',
          source: 'api',
          action: 'user.updated',
          target_type: 'user',
        })),
      )
      .execute();
    const mine = () =>
      ctx.db
        .selectFrom('audit_events')
        .select('id')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('id')
        .execute();
    // Bounded work per sweep: two statements of two rows.
    expect(await purgeAudit(ctx.db, 365, { batch: 2, maxBatches: 2 })).toBe(4);
    expect(await purgeAudit(ctx.db, 365, { batch: 2 })).toBeGreaterThanOrEqual(2);
    expect((await mine()).map((r) => r.id)).toEqual([rows[6]!.id]);
  });
});

describe('settings.updated', () => {
  it('records each changed setting as { from, to }; a PATCH that changes nothing is no event', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'] });
    const patch = (body: unknown) => call(ctx.app, 'PATCH', '/v1/settings', { token: ws.token, body });
    expect(
      (await patch({ defaultRole: 'Agent', invitationTtlHours: 72, scimSendInvites: false })).status,
    ).toBe(200);
    const [event] = await audit(ws.token, 'action=settings.updated');
    expect(event.changes).toEqual({
      defaultRole: {
        from: { id: expect.any(String), name: 'Admin' },
        to: { id: expect.any(String), name: 'Agent' },
      },
      invitationTtlHours: { from: 168, to: 72 },
    });
    expect((await patch({ invitationTtlHours: 72 })).status).toBe(200);
    expect(await audit(ws.token, 'action=settings.updated')).toHaveLength(1);
  });
});
