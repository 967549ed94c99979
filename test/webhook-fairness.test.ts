import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext, useTestWorkers } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { addEndpoint, deliveriesOf, memoryFeed, untilDeliveries } from './support/webhooks.js';

// Two webhook runs at once in this worker process, runs of at most a second: a backlog or a slow
// endpoint must share them with everyone else.
const ctx = useTestContext({
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_CONCURRENCY: '2',
});
const events = memoryFeed();
useTestWorkers(ctx, { webhooks: { feed: events.feed, policy: { runWallMs: 1_000 }, tickMs: 100 } });

let slow: Receiver;
let fast: Receiver;

beforeAll(async () => {
  slow = await startReceiver(() => ({ status: 204, delayMs: 200 }));
  fast = await startReceiver();
});
afterAll(async () => {
  await slow?.close();
  await fast?.close();
});

const workspace = async () => {
  const ws = await makeWorkspace(ctx.db);
  return { workspaceId: ws.workspaceId, token: await makeToken(ctx.db, ws.workspaceId, ['admin']) };
};

const succeeded = async (token: string, endpointId: string) =>
  (await deliveriesOf(ctx.app, token, endpointId)).filter((d) => d.status === 'succeeded').length;

describe('fairness', () => {
  it('delivers one workspace’s ten events while another’s backlog of a thousand is still going out', async () => {
    const big = await workspace();
    const small = await workspace();
    const bigEndpoint = await addEndpoint(ctx.app, big.token, `${slow.url}/big`);
    const smallEndpoint = await addEndpoint(ctx.app, small.token, `${fast.url}/small`);
    await events.emit(ctx.db, big.workspaceId, 'user.created', 1_000);
    // The backlog is going out when the other workspace's events arrive.
    await untilDeliveries(
      ctx.app,
      big.token,
      bigEndpoint.id,
      (d) => d.filter((x) => x.status === 'succeeded').length >= 20,
      15_000,
    );
    await events.emit(ctx.db, small.workspaceId, 'user.created', 10);
    const started = Date.now();

    await untilDeliveries(
      ctx.app,
      small.token,
      smallEndpoint.id,
      (d) => d.length === 10 && d.every((x) => x.status === 'succeeded'),
      15_000,
    );
    const tookMs = Date.now() - started;
    const bigDone = await succeeded(big.token, bigEndpoint.id);
    console.info(`webhook fairness: 10 events delivered in ${tookMs} ms, the backlog at ${bigDone} of 1000`);
    // Five at a time, 200 ms each: the backlog needs about 40 s; the ten did not wait for it.
    expect(bigDone).toBeLessThan(500);
    expect(tookMs).toBeLessThan(10_000);
  });

  it('keeps slow endpoints from holding up a fast one: runs are bounded and take turns', async () => {
    const a = await workspace();
    const b = await workspace();
    const c = await workspace();
    const slowA = await addEndpoint(ctx.app, a.token, `${slow.url}/a`);
    const slowB = await addEndpoint(ctx.app, b.token, `${slow.url}/b`);
    const quick = await addEndpoint(ctx.app, c.token, `${fast.url}/c`);
    await events.emit(ctx.db, a.workspaceId, 'user.created', 300);
    await events.emit(ctx.db, b.workspaceId, 'user.created', 300);
    // Both slots are taken by the slow endpoints' runs before the fast endpoint's event exists.
    await untilDeliveries(ctx.app, a.token, slowA.id, (d) => d.some((x) => x.status === 'succeeded'), 10_000);
    await untilDeliveries(ctx.app, b.token, slowB.id, (d) => d.some((x) => x.status === 'succeeded'), 10_000);
    const started = Date.now();
    await events.emit(ctx.db, c.workspaceId, 'user.created', 1);
    await untilDeliveries(ctx.app, c.token, quick.id, (d) => d[0]?.status === 'succeeded', 10_000);
    const tookMs = Date.now() - started;
    const slowDone = (await succeeded(a.token, slowA.id)) + (await succeeded(b.token, slowB.id));
    console.info(
      `webhook fairness: a fast endpoint's event delivered in ${tookMs} ms behind two slow backlogs (${slowDone} of 600 done)`,
    );
    expect(slowDone).toBeLessThan(600);
    // A run holds a slot for at most runWallMs (1 s) and one attempt (200 ms).
    expect(tookMs).toBeLessThan(5_000);
  });
});
