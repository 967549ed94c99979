import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { provision, type ProvisionItem, type ProvisionOptions } from '../src/provisioning/engine.js';
import { useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';

const ctx = useTestContext();
const opts = (o: Partial<ProvisionOptions> = {}): ProvisionOptions => ({
  mode: 'upsert',
  dryRun: false,
  sendInvites: true,
  source: 'csv:test',
  actor: 'test',
  ...o,
});

const count = async (table: 'users' | 'invitations', workspaceId: string): Promise<number> => {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = ${workspaceId}`.execute(ctx.db);
  return rows[0]!.n;
};

describe('provision() on a batch of 1,000 mixed items', () => {
  let ws: { workspaceId: string };
  const items: ProvisionItem[] = [];

  beforeAll(async () => {
    ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London'] });
    // 100 users exist before the batch.
    const seed = Array.from({ length: 100 }, (_, i) => ({
      key: `s${i}`,
      email: `old${i}@example.com`,
      displayName: `Old ${i}`,
      role: 'Agent',
    }));
    const seeded = await provision(ctx.db, ws.workspaceId, seed, opts());
    expect(seeded.every((r) => r.status === 'created')).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const k = `k${String(i).padStart(4, '0')}`;
      if (i < 600)
        items.push({
          key: k,
          email: `new${i}@example.com`,
          displayName: `New ${i}`,
          role: 'agent',
          location: 'london',
        });
      else if (i < 700)
        items.push({ key: k, email: `OLD${i - 600}@example.com`, displayName: `Renamed ${i}` });
      else if (i < 750) items.push({ key: k, email: `bad${i}@`, displayName: 'Bad' });
      else if (i < 800)
        items.push({ key: k, email: `norole${i}@example.com`, displayName: 'X', role: 'Ghost' });
      else if (i < 850) items.push({ key: k, email: `noname${i}@example.com` });
      else items.push({ key: k, email: `NEW${i - 850}@EXAMPLE.com`, displayName: 'Dup' }); // duplicates of new0..149
    }
  });

  it('returns one result per item, in order, with the right status for each kind', async () => {
    const results = await provision(ctx.db, ws.workspaceId, items, opts());
    expect(results.map((r) => r.key)).toEqual(items.map((i) => i.key));
    const tally = (from: number, to: number) =>
      results
        .slice(from, to)
        .reduce<Record<string, number>>(
          (acc, r) => ({ ...acc, [r.errorCode ?? r.status]: (acc[r.errorCode ?? r.status] ?? 0) + 1 }),
          {},
        );
    expect(tally(0, 600)).toEqual({ created: 600 });
    expect(tally(600, 700)).toEqual({ updated: 100 });
    expect(tally(700, 750)).toEqual({ invalid_email: 50 });
    expect(tally(750, 800)).toEqual({ unknown_role: 50 });
    expect(tally(800, 850)).toEqual({ missing_name: 50 });
    expect(tally(850, 1000)).toEqual({ duplicate_in_batch: 150 });
    expect(results[0]).toMatchObject({
      status: 'created',
      invitation: 'queued',
      userId: expect.any(String),
      version: 1,
    });
    expect(results[600]).toMatchObject({ status: 'updated', invitation: null, version: 2 });
    expect(await count('users', ws.workspaceId)).toBe(700);
    // 100 seeded + 600 new invitations
    expect(await count('invitations', ws.workspaceId)).toBe(700);
    const { rows } = await sql<{ id: string }>`
      select id from invitations where workspace_id = ${ws.workspaceId} and user_id = ${results[0]!.userId!}`.execute(
      ctx.db,
    );
    expect(results[0]!.invitationId).toBe(rows[0]!.id);
  });

  it('is idempotent: the same batch again creates nothing and leaves the renamed users unchanged', async () => {
    const results = await provision(ctx.db, ws.workspaceId, items, opts());
    expect(results.slice(0, 600).every((r) => r.status === 'updated' || r.status === 'unchanged')).toBe(true);
    expect(results.slice(600, 700).every((r) => r.status === 'unchanged')).toBe(true);
    expect(await count('users', ws.workspaceId)).toBe(700);
    expect(await count('invitations', ws.workspaceId)).toBe(700);
  });

  it('skips existing users with already_exists in create mode', async () => {
    const results = await provision(ctx.db, ws.workspaceId, items.slice(0, 10), opts({ mode: 'create' }));
    expect(results.every((r) => r.status === 'skipped' && r.errorCode === 'already_exists' && r.userId)).toBe(
      true,
    );
  });
});

describe('provision() dry run', () => {
  it('computes the same statuses and writes nothing; userId only where the user exists', async () => {
    const ws = await makeWorkspace(ctx.db);
    await provision(ctx.db, ws.workspaceId, [{ key: 'a', email: 'a@example.com', displayName: 'A' }], opts());
    const batch: ProvisionItem[] = [
      { key: 'a', email: 'a@example.com', displayName: 'A2' },
      { key: 'b', email: 'b@example.com', displayName: 'B' },
      { key: 'c', email: 'c@', displayName: 'C' },
    ];
    const dry = await provision(ctx.db, ws.workspaceId, batch, opts({ dryRun: true }));
    expect(dry.map((r) => r.status)).toEqual(['updated', 'created', 'failed']);
    expect(dry[0]!.userId).toEqual(expect.any(String));
    expect(dry[1]!.userId).toBeUndefined();
    expect(await count('users', ws.workspaceId)).toBe(1);
    const real = await provision(ctx.db, ws.workspaceId, batch, opts());
    expect(real.map((r) => r.status)).toEqual(dry.map((r) => r.status));
  });
});

describe('provision() isolating an unexpected error', () => {
  it('bisects the batch, marks only the failing item internal_error, and writes the rest', async () => {
    const ws = await makeWorkspace(ctx.db);
    const batch: ProvisionItem[] = Array.from({ length: 16 }, (_, i) => ({
      key: `i${i}`,
      email: `u${i}@example.com`,
      displayName: `U ${i}`,
      // Postgres refuses \u0000 inside jsonb: an error no validation foresaw.
      ...(i === 11 ? { attributes: { title: 'bad\u0000value' } } : {}),
    }));
    const warnings: string[] = [];
    const results = await provision(ctx.db, ws.workspaceId, batch, opts(), {
      warn: (_o, m) => warnings.push(m),
      error: (_o, m) => warnings.push(m),
    });
    expect(results.filter((r) => r.status === 'created')).toHaveLength(15);
    expect(results[11]).toMatchObject({ status: 'failed', errorCode: 'internal_error' });
    expect(await count('users', ws.workspaceId)).toBe(15);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('provision() operations', () => {
  it('deactivates as a set, revoking open invitations, and deletes softly', async () => {
    const ws = await makeWorkspace(ctx.db);
    const created = await provision(
      ctx.db,
      ws.workspaceId,
      Array.from({ length: 5 }, (_, i) => ({
        key: `${i}`,
        email: `d${i}@example.com`,
        displayName: `D${i}`,
      })),
      opts(),
    );
    const ids = created.map((r) => r.userId!);
    const off = await provision(
      ctx.db,
      ws.workspaceId,
      ids.slice(0, 3).map((userId, i) => ({ key: `x${i}`, userId, op: 'deactivate' as const })),
      opts(),
    );
    expect(off.map((r) => r.status)).toEqual(['deactivated', 'deactivated', 'deactivated']);
    const again = await provision(
      ctx.db,
      ws.workspaceId,
      [{ key: 'y', userId: ids[0]!, op: 'deactivate' }],
      opts(),
    );
    expect(again[0]!.status).toBe('unchanged');
    const { rows } = await sql<{ status: string; n: number }>`
      select status, count(*)::int as n from invitations where workspace_id = ${ws.workspaceId} group by status order by status`.execute(
      ctx.db,
    );
    expect(rows).toEqual([
      { status: 'pending', n: 2 },
      { status: 'revoked', n: 3 },
    ]);
    const del = await provision(
      ctx.db,
      ws.workspaceId,
      [{ key: 'z', userId: ids[4]!, op: 'delete' }],
      opts(),
    );
    expect(del[0]!.status).toBe('deleted');
    const missing = await provision(
      ctx.db,
      ws.workspaceId,
      [{ key: 'w', userId: ids[4]!, op: 'patch', displayName: 'Ghost' }],
      opts(),
    );
    expect(missing[0]).toMatchObject({ status: 'failed', errorCode: 'not_found' });
  });

  it('writes one audit event per changed user, always', async () => {
    const ws = await makeWorkspace(ctx.db);
    await provision(
      ctx.db,
      ws.workspaceId,
      [{ key: 'a', email: 'aud@example.com', displayName: 'A' }],
      opts({ source: 'api', actor: 'lp_test' }),
    );
    const events = await ctx.db
      .selectFrom('audit_events')
      .select(['action', 'actor', 'source'])
      .where('workspace_id', '=', ws.workspaceId)
      .execute();
    expect(events).toEqual([{ action: 'user.created', actor: 'lp_test', source: 'api' }]);
  });
});
