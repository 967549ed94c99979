import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loggerOptions } from '../../src/app.js';
import { startWorkers, type WorkerHandle } from '../../workers/main.js';
import { call, useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { untilDeliveries } from '../support/webhooks.js';

/*
 * A webhook's signing secret never reaches the logs: not the API's (creating the endpoint, listing
 * it, sending tests, retrying) nor the workers' (signing, failing, retrying), at the most verbose level.
 */
const ctx = useTestContext({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
let app: FastifyInstance;
let workers: WorkerHandle;
let receiver: Receiver;
let lines = '';

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines += chunk.toString();
      done();
    },
  });
  const config = { ...ctx.config, logLevel: 'trace' as const };
  app = await buildApp({
    config,
    db: ctx.db,
    logger: { ...(loggerOptions(config) as object), stream: sink },
  });
  await app.ready();
  workers = await startWorkers({
    config,
    db: ctx.db,
    logger: pino(loggerOptions(config) as pino.LoggerOptions, sink),
    sweepTasks: [],
    webhooks: { policy: { retryScheduleMs: [100] }, tickMs: 100 },
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await workers?.close();
  await app?.close();
  await receiver?.close();
});

describe('the logs', () => {
  it('never hold a webhook signing secret', async () => {
    const ws = await makeWorkspace(ctx.db);
    const created = await call(app, 'POST', '/v1/webhooks', {
      token: ws.token,
      body: { url: `${receiver.url}/logged`, events: ['user.created'] },
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const { id } = created.body as { id: string };
    receiver.behave((_r, n) => (n === 1 ? { status: 500, body: 'no' } : { status: 204 }));
    await call(app, 'POST', `/v1/webhooks/${id}/test`, { token: ws.token });
    const [failed] = await untilDeliveries(app, ws.token, id, (d) => d[0]?.status === 'failed');
    await call(app, 'POST', `/v1/webhooks/${id}/deliveries/${failed!.id}/retry`, { token: ws.token });
    await call(app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Logged', email: 'logged@example.com', role: 'Admin', sendInvite: false },
    });
    await untilDeliveries(
      app,
      ws.token,
      id,
      (d) => d.length === 2 && d.every((x) => x.status === 'succeeded'),
    );
    await call(app, 'GET', '/v1/webhooks', { token: ws.token });
    await call(app, 'PATCH', `/v1/webhooks/${id}`, { token: ws.token, body: { enabled: false } });

    expect(lines).toContain('/v1/webhooks');
    expect(lines).toContain('webhook deliveries sent');
    expect(lines).not.toContain(secret);
    expect(lines).not.toContain(secret.slice('whsec_'.length));
    // Nor a signature made with it.
    for (const r of receiver.received) expect(lines).not.toContain(String(r.headers['webhook-signature']));
  });
});
