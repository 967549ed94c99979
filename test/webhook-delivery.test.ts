import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../src/lib/metrics.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { waitFor } from './support/processes.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { addEndpoint, deliveriesOf, memoryFeed, untilDeliveries } from './support/webhooks.js';

// A local receiver over plain http: both switches on. Retries after 200, 400 and 600 ms (four attempts),
// a 1.5 s timeout (the receiver shares this busy process) and a 100 ms tick stand in for the
// production schedule, which is tested on its own.
const ctx = useTestContext({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
const SCHEDULE = [200, 400, 600];
const events = memoryFeed();
useTestWorkers(ctx, {
  webhooks: { feed: events.feed, policy: { retryScheduleMs: SCHEDULE, timeoutMs: 1_500 }, tickMs: 100 },
});

let receiver: Receiver;
let workspaceId: string;
let token: string;

beforeAll(async () => {
  receiver = await startReceiver();
});
// A workspace per test: an endpoint receives its workspace's events from its creation on.
beforeEach(async () => {
  const ws = await makeWorkspace(ctx.db);
  workspaceId = ws.workspaceId;
  token = await makeToken(ctx.db, workspaceId, ['admin']);
});
afterAll(async () => {
  await receiver?.close();
});

/** A receiver path of its own per test, so each test counts only its requests. */
let paths = 0;
const newPath = () => `${receiver.url}/${++paths}`;
const at = (url: string) => receiver.received.filter((r) => r.path === new URL(url).pathname);

describe('delivery', () => {
  it('POSTs each subscribed event once, signed per Standard Webhooks, and records the answer', async () => {
    const url = newPath();
    const endpoint = await addEndpoint(ctx.app, token, url, ['user.created', 'user.deleted']);
    const [created] = await events.emit(ctx.db, workspaceId, 'user.created');
    await events.emit(ctx.db, workspaceId, 'user.updated'); // not subscribed
    const [deleted] = await events.emit(ctx.db, workspaceId, 'user.deleted');

    const done = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d.length === 2 && d.every((x) => x.status === 'succeeded'),
    );
    expect(done.map((d) => d.eventType).sort()).toEqual(['user.created', 'user.deleted']);
    expect(done.every((d) => d.attempts === 1 && d.lastResponseStatus === 204 && d.lastError === null)).toBe(
      true,
    );
    expect(done.every((d) => d.nextAttemptAt === null)).toBe(true);

    const requests = at(url);
    expect(requests).toHaveLength(2);
    const hook = new Webhook(endpoint.secret);
    for (const [request, event] of [
      [requests.find((r) => r.headers['webhook-id'] === created!.id), created],
      [requests.find((r) => r.headers['webhook-id'] === deleted!.id), deleted],
    ] as const) {
      expect(request, `a request for ${event!.type}`).toBeDefined();
      expect(request!.headers['content-type']).toBe('application/json');
      expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      // The package's own verification: signature, timestamp tolerance, and the body as sent.
      const verified = hook.verify(request!.body, request!.headers as Record<string, string>);
      expect(verified).toEqual(event);
    }
    // Counted for Prometheus (this process runs the workers) when the run's job completes.
    await expect
      .poll(() => registry.getSingleMetricAsString('loopit_webhook_attempts_total'), { timeout: 5_000 })
      .toMatch(/loopit_webhook_attempts_total\{result="succeeded"\} [1-9]/);
    // Another secret does not verify it.
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect(() => other.verify(requests[0]!.body, requests[0]!.headers as Record<string, string>)).toThrow();
  });

  it('retries a 500 after the schedule’s first step, with the same webhook-id, until a 204', async () => {
    const url = newPath();
    let n = 0;
    receiver.behave((r) =>
      r.path === new URL(url).pathname
        ? ++n === 1
          ? { status: 500, body: 'try later' }
          : { status: 204 }
        : { status: 204 },
    );
    const endpoint = await addEndpoint(ctx.app, token, url);
    const [event] = await events.emit(ctx.db, workspaceId);

    const [done] = await untilDeliveries(ctx.app, token, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(done).toMatchObject({ eventId: event!.id, attempts: 2, lastResponseStatus: 204, lastError: null });
    const requests = at(url);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([event!.id, event!.id]);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(SCHEDULE[0]! - 20);
    const hook = new Webhook(endpoint.secret);
    for (const r of requests) expect(hook.verify(r.body, r.headers as Record<string, string>)).toEqual(event);
    receiver.behave(() => ({ status: 204 }));
  });

  it('counts a receiver that never answers as a timeout, then gives the delivery up as failed', async () => {
    const url = newPath();
    receiver.behave((r) => (r.path === new URL(url).pathname ? 'hang' : { status: 204 }));
    const endpoint = await addEndpoint(ctx.app, token, url);
    const [event] = await events.emit(ctx.db, workspaceId);

    const [done] = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d[0]?.status === 'failed',
      30_000,
    );
    expect(done).toMatchObject({
      eventId: event!.id,
      attempts: SCHEDULE.length + 1,
      lastResponseStatus: null,
      nextAttemptAt: null,
    });
    expect(done!.lastError).toMatch(/no answer within 1.5 s \(timeout\)/);
    expect(at(url).map((r) => r.headers['webhook-id'])).toEqual(Array(SCHEDULE.length + 1).fill(event!.id));
    const ep = await call(ctx.app, 'GET', `/v1/webhooks/${endpoint.id}`, { token });
    expect(ep.body.failingSince).not.toBeNull();
    receiver.behave(() => ({ status: 204 }));
  });

  it('does not follow a redirect: a 3xx fails the attempt and is recorded', async () => {
    const url = newPath();
    const elsewhere = newPath();
    receiver.behave((r) =>
      r.path === new URL(url).pathname ? { status: 302, headers: { location: elsewhere } } : { status: 204 },
    );
    const endpoint = await addEndpoint(ctx.app, token, url);
    await events.emit(ctx.db, workspaceId);
    const [first] = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => (d[0]?.attempts ?? 0) >= 1 && d[0]!.lastResponseStatus === 302,
    );
    expect(first!.status).toBe('pending');
    expect(first!.lastError).toMatch(/answered 302, a redirect to .* redirects are not followed/);
    expect(at(elsewhere)).toHaveLength(0);
    // Put right for the tests that follow.
    await call(ctx.app, 'DELETE', `/v1/webhooks/${endpoint.id}`, { token });
    receiver.behave(() => ({ status: 204 }));
  });
});

describe('an endpoint that is down for a while', () => {
  it('is probed, not flooded, and gets every event once it is back', async () => {
    const down = await startReceiver();
    const endpoint = await addEndpoint(ctx.app, token, down.url);
    await down.stop();
    const sent = await events.emit(ctx.db, workspaceId, 'user.created', 8);
    await untilDeliveries(ctx.app, token, endpoint.id, (d) => d.some((x) => x.attempts > 0), 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const whileDown = await deliveriesOf(ctx.app, token, endpoint.id);
    // Each failed attempt recorded, none given up...
    expect(whileDown.every((d) => d.status === 'pending')).toBe(true);
    const tried = whileDown.filter((d) => d.attempts > 0);
    expect(tried.every((d) => /^connection refused by 127\.0\.0\.1$/.test(d.lastError!))).toBe(true);
    // ...and only a probe at a time after the first failures (the first run has at most five lanes):
    // 1.5 s of pauses of 200, 400 and 600 ms, instead of every delivery at every step of its schedule.
    const attempts = whileDown.reduce((n, d) => n + d.attempts, 0);
    expect(attempts).toBeLessThanOrEqual(5 + 4);
    const ep = await call(ctx.app, 'GET', `/v1/webhooks/${endpoint.id}`, { token });
    expect(ep.body.failingSince).not.toBeNull();

    await down.start();
    const done = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d.length === 8 && d.every((x) => x.status === 'succeeded'),
      20_000,
    );
    expect(new Set(done.map((d) => d.eventId))).toEqual(new Set(sent.map((e) => e.id)));
    // Every event arrived, each under its own webhook-id, each signed.
    const hook = new Webhook(endpoint.secret);
    expect(new Set(down.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(sent.map((e) => e.id)),
    );
    for (const r of down.received)
      expect(() => hook.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    const healthy = await call(ctx.app, 'GET', `/v1/webhooks/${endpoint.id}`, { token });
    expect(healthy.body).toMatchObject({ enabled: true, failingSince: null });
    await down.close();
  });
});

describe('disabling and retrying by hand', () => {
  it('disables an endpoint that has failed for 5 days, and PATCH { enabled: true } brings it back', async () => {
    const url = newPath();
    receiver.behave((r) => (r.path === new URL(url).pathname ? { status: 503 } : { status: 204 }));
    const endpoint = await addEndpoint(ctx.app, token, url);
    // Failing since six days ago (the clock is Postgres's, so the past is set there).
    await sql`update webhook_endpoints set failing_since = now() - interval '6 days', failure_streak = 1
      where id = ${endpoint.id}`.execute(ctx.db);
    const [event] = await events.emit(ctx.db, workspaceId);
    await waitFor(
      async () =>
        (await call(ctx.app, 'GET', `/v1/webhooks/${endpoint.id}`, { token })).body.enabled === false,
    );
    const off = await call(ctx.app, 'GET', `/v1/webhooks/${endpoint.id}`, { token });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const [waiting] = await deliveriesOf(ctx.app, token, endpoint.id);
    expect(waiting).toMatchObject({
      eventId: event!.id,
      status: 'pending',
      attempts: 1,
      lastResponseStatus: 503,
      nextAttemptAt: null,
    });
    const audit = await call(ctx.app, 'GET', '/v1/audit?limit=20', { token });
    expect(audit.body.data).toContainEqual(
      expect.objectContaining({ action: 'webhook.disabled', actor: 'system', targetId: endpoint.id }),
    );
    // Nothing more is sent while it is off.
    const before = at(url).length;
    await new Promise((r) => setTimeout(r, 700));
    expect(at(url)).toHaveLength(before);

    receiver.behave(() => ({ status: 204 }));
    const on = await call(ctx.app, 'PATCH', `/v1/webhooks/${endpoint.id}`, {
      token,
      body: { enabled: true },
    });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    const [done] = await untilDeliveries(ctx.app, token, endpoint.id, (d) => d[0]?.status === 'succeeded');
    expect(done).toMatchObject({ eventId: event!.id, attempts: 2, lastResponseStatus: 204 });
  });

  it('retries a failed delivery by hand: one more attempt, now, with the same webhook-id', async () => {
    const url = newPath();
    receiver.behave((r) => (r.path === new URL(url).pathname ? { status: 500 } : { status: 204 }));
    const endpoint = await addEndpoint(ctx.app, token, url);
    const [event] = await events.emit(ctx.db, workspaceId);
    const [failed] = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d[0]?.status === 'failed',
      30_000,
    );
    expect(failed).toMatchObject({
      attempts: SCHEDULE.length + 1,
      lastResponseStatus: 500,
      nextAttemptAt: null,
    });

    receiver.behave(() => ({ status: 204 }));
    const retry = await call(ctx.app, 'POST', `/v1/webhooks/${endpoint.id}/deliveries/${failed!.id}/retry`, {
      token,
    });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ id: failed!.id, status: 'pending' });
    const [done] = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d[0]?.status === 'succeeded',
      5_000,
    );
    expect(done).toMatchObject({ id: failed!.id, attempts: SCHEDULE.length + 2, lastResponseStatus: 204 });
    expect(new Set(at(url).map((r) => r.headers['webhook-id']))).toEqual(new Set([event!.id]));
    expect(at(url)).toHaveLength(SCHEDULE.length + 2);
  });

  it('sends a test delivery, signed, even to a disabled endpoint', async () => {
    const url = newPath();
    const endpoint = await addEndpoint(ctx.app, token, url);
    await call(ctx.app, 'PATCH', `/v1/webhooks/${endpoint.id}`, { token, body: { enabled: false } });
    const test = await call(ctx.app, 'POST', `/v1/webhooks/${endpoint.id}/test`, { token });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ eventType: 'webhook.test', status: 'pending', attempts: 0 });
    const [done] = await untilDeliveries(
      ctx.app,
      token,
      endpoint.id,
      (d) => d[0]?.status === 'succeeded',
      5_000,
    );
    expect(done).toMatchObject({ id: test.body.id, attempts: 1, lastResponseStatus: 204 });
    const [request] = at(url);
    const body = new Webhook(endpoint.secret).verify(
      request!.body,
      request!.headers as Record<string, string>,
    );
    expect(body).toMatchObject({
      id: test.body.eventId,
      type: 'webhook.test',
      workspaceId,
      data: { endpointId: endpoint.id },
    });
  });
});
