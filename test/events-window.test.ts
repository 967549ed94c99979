import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/events/cursor.js';
import { findEvent, latestCursor, readEvents } from '../src/events/events.service.js';
import { newId } from '../src/lib/ids.js';
import { uuidv7Floor } from '../src/users/audit.repository.js';
import { call, useTestContext } from './support/context.js';
import { readOn, readUntil } from './support/events.js';
import { makeWorkspace } from './support/factories.js';

/** The reader the webhooks build on, and the feed's 30-day window. */
const ctx = useTestContext();

const addUser = async (token: string, email: string) => {
  const res = await call(ctx.app, 'POST', '/v1/users', {
    token,
    body: { name: email.split('@')[0], email, role: 'Admin', sendInvite: false },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
};

/** Waits until every transaction older than now has ended (the feed reads below the snapshot's xmin). */
async function settled(workspaceId: string, count: number) {
  for (let i = 0; i < 600; i++) {
    if ((await readEvents(ctx.db, workspaceId, { limit: 1000 })).events.length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the feed did not catch up');
}

describe('readEvents, latestCursor and findEvent', () => {
  it('read on from a cursor, start from now, and find one event by id', async () => {
    const ws = await makeWorkspace(ctx.db);
    expect(await latestCursor(ctx.db, ws.workspaceId)).toBeNull();
    expect(await readEvents(ctx.db, ws.workspaceId, { limit: 10 })).toEqual({ events: [], next: null });

    const ann = await addUser(ws.token, 'ann@example.com');
    await settled(ws.workspaceId, 1);
    const now = await latestCursor(ctx.db, ws.workspaceId);
    const first = await readEvents(ctx.db, ws.workspaceId, { limit: 10 });
    expect(first.events.map((e) => [e.type, e.data.id])).toEqual([['user.created', ann]]);
    expect(first.next).toBe(now);
    // Nothing new: next is after, unchanged.
    expect(await readEvents(ctx.db, ws.workspaceId, { after: now!, limit: 10 })).toEqual({
      events: [],
      next: now,
    });

    const bo = await addUser(ws.token, 'bo@example.com');
    const patched = await call(ctx.app, 'PATCH', `/v1/users/${bo}`, {
      token: ws.token,
      body: { name: 'Bo' },
    });
    expect(patched.status).toBe(200);
    await settled(ws.workspaceId, 3);
    const fromNow = await readEvents(ctx.db, ws.workspaceId, { after: now!, limit: 1 });
    expect(fromNow.events.map((e) => [e.type, e.data.id])).toEqual([['user.created', bo]]);
    const rest = await readEvents(ctx.db, ws.workspaceId, { after: fromNow.next!, limit: 10 });
    expect(rest.events.map((e) => e.type)).toEqual(['user.updated']);
    const updates = await readEvents(ctx.db, ws.workspaceId, { types: ['user.updated'], limit: 10 });
    expect(updates.events).toEqual(rest.events);
    expect(updates.next).toBe(rest.next);

    // The same JSON as the feed's, by id; nothing for another id, another workspace or a non-event.
    expect(await findEvent(ctx.db, ws.workspaceId, rest.events[0]!.id)).toEqual(rest.events[0]);
    expect((await call(ctx.app, 'GET', '/v1/events', { token: ws.token })).body.data[2]).toEqual(
      rest.events[0],
    );
    const other = await makeWorkspace(ctx.db);
    expect(await findEvent(ctx.db, other.workspaceId, rest.events[0]!.id)).toBeUndefined();
    expect(await findEvent(ctx.db, ws.workspaceId, newId())).toBeUndefined();
    expect(await findEvent(ctx.db, ws.workspaceId, 'not-an-id')).toBeUndefined();
    const role = await call(ctx.app, 'POST', '/v1/roles', { token: ws.token, body: { name: 'Auditor' } });
    expect(role.status).toBe(201);
    const [created] = (await call(ctx.app, 'GET', '/v1/audit?action=group.created', { token: ws.token })).body
      .data;
    expect(await findEvent(ctx.db, ws.workspaceId, created.id)).toBeUndefined();

    await expect(readEvents(ctx.db, ws.workspaceId, { after: 'nonsense', limit: 10 })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
      details: { field: 'after' },
    });
  });
});

describe('latestCursor', () => {
  it('orders transactions as numbers, not as text', async () => {
    const ws = await makeWorkspace(ctx.db);
    const rows = ['9', '10'].map((tx) => ({ tx, id: newId() }));
    await ctx.db
      .insertInto('audit_events')
      .values(
        rows.map((r) => ({
          ...r,
          workspace_id: ws.workspaceId,
          actor: 'test',
          source: 'api',
          action: 'group.created',
          target_type: 'group',
        })),
      )
      .execute();
    expect(await latestCursor(ctx.db, ws.workspaceId)).toBe(encodeCursor(rows[1]!));
  });
});

describe('the 30-day window', () => {
  const day = 86_400_000;
  const oldId = (n: number) =>
    uuidv7Floor(new Date(Date.now() - 31 * day)).replace(/0{12}$/, String(n).padStart(12, '0'));

  it('returns only events of the last 30 days; a cursor that fell out of it is 410 when events were missed', async () => {
    const ws = await makeWorkspace(ctx.db);
    const ann = await addUser(ws.token, 'ann@example.com');
    // Two events of 31 days ago, as their transactions left them (ids below any now).
    const old = [1, 2].map((n) => ({ tx: String(n), id: oldId(n) }));
    await ctx.db
      .insertInto('audit_events')
      .values(
        old.map((o) => ({
          workspace_id: ws.workspaceId,
          id: o.id,
          tx: o.tx,
          actor: 'test',
          source: 'api',
          action: 'user.updated',
          target_type: 'user',
          target_id: ann,
          user_id: ann,
          created_at: new Date(Date.now() - 31 * day),
        })),
      )
      .execute();
    const recent = await readUntil(ctx.app, ws.token, 1);
    expect(recent.events.map((e) => [e.type, e.data.id])).toEqual([['user.created', ann]]);
    expect(await call(ctx.app, 'GET', `/v1/audit?userId=${ann}`, { token: ws.token })).toMatchObject({
      body: { data: { length: 3 } },
    });

    // After the first old event, the second was missed: 410. After the second, nothing was.
    const missed = await call(ctx.app, 'GET', `/v1/events?after=${encodeCursor(old[0]!)}`, {
      token: ws.token,
    });
    expect([missed.status, missed.body.error.code]).toEqual([410, 'cursor_expired']);
    const caughtUp = await readOn(ctx.app, ws.token, { after: encodeCursor(old[1]!) });
    expect(caughtUp.events.map((e) => e.id)).toEqual(recent.events.map((e) => e.id));
    // A type filter only counts what the reader asked for.
    const onlyCreated = await readOn(ctx.app, ws.token, {
      after: encodeCursor(old[0]!),
      types: 'user.created',
    });
    expect(onlyCreated.events.map((e) => e.id)).toEqual(recent.events.map((e) => e.id));
    // The reader the webhooks use goes on from the window's start.
    const skipped = await readEvents(ctx.db, ws.workspaceId, { after: encodeCursor(old[0]!), limit: 10 });
    expect(skipped.events.map((e) => e.id)).toEqual(recent.events.map((e) => e.id));
  });

  it('shows { id } as data when the row is gone', async () => {
    const ws = await makeWorkspace(ctx.db);
    const ghost = newId();
    await ctx.db
      .insertInto('audit_events')
      .values({
        workspace_id: ws.workspaceId,
        id: newId(),
        actor: 'test',
        source: 'api',
        action: 'user.deleted',
        target_type: 'user',
        target_id: ghost,
        user_id: ghost,
      })
      .execute();
    const { events } = await readUntil(ctx.app, ws.token, 1);
    expect(events.map((e) => [e.type, e.data])).toEqual([['user.deleted', { id: ghost }]]);
  });
});
