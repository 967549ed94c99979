import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { addEndpoint, untilDeliveries } from './support/webhooks.js';

/*
 * The events feed fanned out to endpoints, end to end: changes through the API and an import journal
 * events; the trigger on the journal wakes the workers, which deliver each event to each subscribed
 * endpoint of its workspace, with the body GET /v1/events shows.
 */
const ctx = useTestContext({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
useTestWorkers(ctx, { webhooks: { policy: { retryScheduleMs: [200, 400] }, tickMs: 100 } });

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

let paths = 0;
const newPath = () => `${receiver.url}/${++paths}`;
const at = (url: string) => receiver.received.filter((r) => r.path === new URL(url).pathname);

const addUser = async (token: string, email: string) => {
  const res = await call(ctx.app, 'POST', '/v1/users', {
    token,
    body: { name: email.split('@')[0], email, role: 'Admin', sendInvite: false },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
};

const feed = async (token: string) => {
  const res = await call(ctx.app, 'GET', '/v1/events?limit=1000', { token });
  expect(res.status).toBe(200);
  return res.body.data as { id: string; type: string; data: { id?: string; email?: string } }[];
};

describe('events to endpoints', () => {
  it('delivers a change made through the API, with the body the events feed shows, signed', async () => {
    const ws = await makeWorkspace(ctx.db);
    const url = newPath();
    const endpoint = await addEndpoint(ctx.app, ws.token, url, ['user.created', 'user.deactivated']);
    const user = await addUser(ws.token, 'ann@example.com');
    const off = await call(ctx.app, 'PATCH', `/v1/users/${user.id}`, {
      token: ws.token,
      body: { status: 'deactivated' },
    });
    expect(off.status).toBe(200);

    const done = await untilDeliveries(
      ctx.app,
      ws.token,
      endpoint.id,
      (d) => d.length === 2 && d.every((x) => x.status === 'succeeded'),
    );
    const events = await feed(ws.token);
    expect(new Set(done.map((d) => d.eventId))).toEqual(new Set(events.map((e) => e.id)));
    const hook = new Webhook(endpoint.secret);
    const bodies = at(url).map(
      (r) => hook.verify(r.body, r.headers as Record<string, string>) as { id: string },
    );
    expect(bodies.map((b) => b.id).sort()).toEqual(events.map((e) => e.id).sort());
    const created = bodies.find((b) => b.id === events.find((e) => e.type === 'user.created')!.id);
    expect(created).toMatchObject({
      type: 'user.created',
      workspaceId: ws.workspaceId,
      data: { id: user.id, email: 'ann@example.com' },
    });
    expect(at(url).every((r) => r.headers['webhook-id'] === JSON.parse(r.body).id)).toBe(true);
  });

  it('sends a new endpoint the events from its creation on, not before, and only the types it takes', async () => {
    const ws = await makeWorkspace(ctx.db);
    const before = await addUser(ws.token, 'before@example.com');
    const url = newPath();
    const endpoint = await addEndpoint(ctx.app, ws.token, url, ['user.deleted']);
    const after = await addUser(ws.token, 'after@example.com');
    await call(ctx.app, 'DELETE', `/v1/users/${before.id}`, { token: ws.token });

    const [done] = await untilDeliveries(ctx.app, ws.token, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(done!.eventType).toBe('user.deleted');
    // Given time, nothing else arrives: not the creation before the endpoint, nor the one after it.
    await new Promise((r) => setTimeout(r, 800));
    const bodies = at(url).map((r) => JSON.parse(r.body) as { type: string; data: { id: string } });
    expect(bodies).toEqual([
      expect.objectContaining({ type: 'user.deleted', data: expect.objectContaining({ id: before.id }) }),
    ]);
    expect(bodies.some((b) => b.data.id === after.id)).toBe(false);
  });

  it('keeps workspaces apart: an endpoint receives only its own workspace’s events', async () => {
    const a = await makeWorkspace(ctx.db);
    const b = await makeWorkspace(ctx.db);
    const urlA = newPath();
    const urlB = newPath();
    const endpointA = await addEndpoint(ctx.app, a.token, urlA);
    const endpointB = await addEndpoint(ctx.app, b.token, urlB);
    await addUser(a.token, 'a1@example.com');
    await addUser(b.token, 'b1@example.com');
    await addUser(a.token, 'a2@example.com');
    await untilDeliveries(
      ctx.app,
      a.token,
      endpointA.id,
      (d) => d.length === 2 && d.every((x) => x.status === 'succeeded'),
    );
    await untilDeliveries(
      ctx.app,
      b.token,
      endpointB.id,
      (d) => d.length === 1 && d[0]!.status === 'succeeded',
    );
    const emails = (url: string) =>
      at(url)
        .map((r) => (JSON.parse(r.body) as { data: { email: string } }).data.email)
        .sort();
    expect(emails(urlA)).toEqual(['a1@example.com', 'a2@example.com']);
    expect(emails(urlB)).toEqual(['b1@example.com']);
  });

  it(
    'catches up after the listening connection is cut: the events written meanwhile go out',
    { timeout: 40_000 },
    async () => {
      const ws = await makeWorkspace(ctx.db);
      const url = newPath();
      const endpoint = await addEndpoint(ctx.app, ws.token, url);
      // Past the few seconds the workers look again after a notification (the endpoint's creation was one).
      await new Promise((r) => setTimeout(r, 5_500));
      const cut = await sql<{ n: number }>`
      select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
      where application_name = 'loopit-provision-webhooks' and datname = current_database()`.execute(ctx.db);
      expect(cut.rows[0]!.n).toBe(1);
      // Written while nobody listens: its notification is lost.
      await addUser(ws.token, 'unheard@example.com');
      const [done] = await untilDeliveries(
        ctx.app,
        ws.token,
        endpoint.id,
        (d) => d[0]?.status === 'succeeded',
        15_000,
      );
      expect(done!.eventType).toBe('user.created');
      expect(at(url)).toHaveLength(1);
      // Listening again, on a new connection.
      const listening = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where application_name = 'loopit-provision-webhooks' and datname = current_database()`.execute(ctx.db);
      expect(listening.rows[0]!.n).toBe(1);
    },
  );

  it('delivers every user of an import and the import’s end, each once', async () => {
    const ws = await makeWorkspace(ctx.db);
    const url = newPath();
    const endpoint = await addEndpoint(ctx.app, ws.token, url, ['user.created', 'import.completed']);
    const csv = [
      'email,name',
      ...Array.from({ length: 120 }, (_, i) => `imp-${i}@example.com,Imported ${i}`),
    ].join('\n');
    const upload = await call(ctx.app, 'POST', '/v1/imports?sendInvites=false', {
      token: ws.token,
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(upload.status, JSON.stringify(upload.body)).toBe(202);
    const done = await untilDeliveries(
      ctx.app,
      ws.token,
      endpoint.id,
      (d) => d.length === 121 && d.every((x) => x.status === 'succeeded'),
      60_000,
    );
    expect(done.filter((d) => d.eventType === 'import.completed')).toHaveLength(1);
    const ids = at(url).map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(121);
    expect(ids).toHaveLength(121);
    const emails = at(url)
      .map((r) => (JSON.parse(r.body) as { data: { email?: string } }).data.email)
      .filter(Boolean);
    expect(new Set(emails).size).toBe(120);
  });
});
