import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { actionsOf } from '../src/events/types.js';
import { newId } from '../src/lib/ids.js';
import { call, useTestContext } from './support/context.js';
import { readOn, readUntil } from './support/events.js';
import { makeWorkspace } from './support/factories.js';

/**
 * The feed never skips and never repeats, whatever order concurrent transactions commit in: it reads
 * by (transaction id, event id), only below the snapshot's xmin.
 */
const ctx = useTestContext();
vi.setConfig({ testTimeout: 180_000 });

/** A transaction of its own, on its own connection, that writes journal entries and commits when told. */
async function openTransaction(workspaceId: string, userIds: string[]) {
  const client = new pg.Client({ connectionString: ctx.config.databaseUrl });
  await client.connect();
  await client.query('begin');
  const ids = userIds.map(() => newId());
  await client.query(
    `insert into audit_events (workspace_id, id, actor, source, action, user_id, target_type, target_id)
     select $1, e.id, 'test', 'api', 'user.updated', e.user_id, 'user', e.user_id
     from unnest($2::uuid[], $3::uuid[]) as e(id, user_id)`,
    [workspaceId, ids, userIds],
  );
  const end = async (how: 'commit' | 'rollback') => {
    await client.query(how);
    await client.end();
  };
  return { ids, end };
}

async function makeUsers(token: string, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call(ctx.app, 'POST', '/v1/users', {
      token,
      body: { name: `${tag} ${i}`, email: `${tag}${i}@example.com`, role: 'Admin', sendInvite: false },
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}

const rename = (token: string, id: string, name: string) =>
  call(ctx.app, 'PATCH', `/v1/users/${id}`, { token, body: { name } });

describe('the order of the feed under concurrent writers', () => {
  it('holds back events committed after a transaction still open, and delivers them all once it ends', async () => {
    const ws = await makeWorkspace(ctx.db);
    const [a, b] = await makeUsers(ws.token, 2, 'held');
    const before = await readUntil(ctx.app, ws.token, 2);

    const held = await openTransaction(ws.workspaceId, [a!]);
    expect((await rename(ws.token, b!, 'Later One')).status).toBe(200);
    expect((await rename(ws.token, b!, 'Later Two')).status).toBe(200);
    // Both later changes are committed and journaled...
    const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${b}&action=user.updated`, {
      token: ws.token,
    });
    const later = audit.body.data.map((e: { id: string }) => e.id).reverse();
    expect(later).toHaveLength(2);
    // ...but the feed does not pass the open transaction: a reader there would never see its event.
    const waiting = await readOn(ctx.app, ws.token, { after: before.next });
    expect(waiting).toEqual({ events: [], next: before.next });

    await held.end('commit');
    const after = await readUntil(ctx.app, ws.token, 3, { after: before.next });
    expect(after.events.map((e) => e.id)).toEqual([...held.ids, ...later]);
    expect(after.events.map((e) => [e.type, e.data.id])).toEqual([
      ['user.updated', a],
      ['user.updated', b],
      ['user.updated', b],
    ]);
    // A rolled-back transaction holds the feed back while it is open, and leaves nothing behind.
    const aborted = await openTransaction(ws.workspaceId, [a!, b!]);
    await aborted.end('rollback');
    expect((await readOn(ctx.app, ws.token, { after: after.next })).events).toEqual([]);
  });

  it('gives a reader paging all the time every event exactly once, in (transaction, id) order', async () => {
    const ws = await makeWorkspace(ctx.db);
    const users = await makeUsers(ws.token, 8, 'racer');
    const start = (await readUntil(ctx.app, ws.token, 8)).next;
    const random = (n: number) => Math.floor(Math.random() * n);
    const pick = () => users[random(users.length)]!;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    // Writers: REST renames, bulk actions (several events in one transaction), and transactions of
    // our own that stay open a random while before they commit or roll back.
    let running = true;
    const writer = async (w: number) => {
      for (let i = 0; i < 12; i++) {
        const kind = random(3);
        if (kind === 0) expect((await rename(ws.token, pick(), `W${w} ${i}`)).status).toBe(200);
        if (kind === 1) {
          const ids = [...new Set([pick(), pick(), pick()])];
          const action = random(2) === 0 ? 'deactivate' : 'reactivate';
          const res = await call(ctx.app, 'POST', '/v1/users/bulk', {
            token: ws.token,
            body: { action, ids },
          });
          expect(res.status).toBe(200);
        }
        if (kind === 2) {
          const tx = await openTransaction(ws.workspaceId, [pick(), pick()]);
          await sleep(random(150));
          await tx.end(random(5) === 0 ? 'rollback' : 'commit');
        }
      }
    };
    const seen: string[] = [];
    const reader = async () => {
      let after = start;
      while (running) {
        const page = await readOn(ctx.app, ws.token, { after, limit: 1 + random(5) });
        seen.push(...page.events.map((e) => e.id));
        after = page.next;
        await sleep(random(20));
      }
      return after;
    };
    const reading = reader();
    await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
    running = false;
    const stoppedAt = await reading;

    const { rows } = await ctx.db
      .selectFrom('audit_events')
      .select('id')
      .where('workspace_id', '=', ws.workspaceId)
      .where('action', 'in', actionsOf())
      .orderBy('tx')
      .orderBy('id')
      .execute()
      .then((r) => ({ rows: r.map((x) => x.id) }));
    const expected = rows.slice(8);
    expect(expected.length).toBeGreaterThan(30);
    const rest = await readUntil(ctx.app, ws.token, expected.length - seen.length, { after: stoppedAt });
    const all = [...seen, ...rest.events.map((e) => e.id)];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expected);
  });
});
