import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_BODY_LIMIT, closeAgents, postDelivery } from '../src/webhooks/sender.js';
import { startReceiver, type Receiver } from './support/receiver.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  closeAgents();
  await receiver?.close();
});

const open = { timeoutMs: 2_000, allowPrivateNetworks: true };
const post = (url: string, options = open) =>
  postDelivery(url, { 'webhook-id': 'msg_1' }, '{"a":1}', options);

describe('postDelivery', () => {
  it('refuses at connection time a name that resolves to a private address, unless allowed', async () => {
    const url = `http://localhost:${receiver.port}/private`;
    const before = receiver.received.length;
    const refused = await post(url, { ...open, allowPrivateNetworks: false });
    expect(refused.status).toBeUndefined();
    expect(refused.error).toMatch(
      /^refused to connect: localhost resolves to (127\.0\.0\.1|::1), which is not a public address/,
    );
    const literal = await post(`http://127.0.0.1:${receiver.port}/private`, {
      ...open,
      allowPrivateNetworks: false,
    });
    expect(literal.error).toMatch(/^refused to connect: 127\.0\.0\.1 is not a public address/);
    expect(receiver.received.length).toBe(before);
    expect(await post(`http://127.0.0.1:${receiver.port}/private`)).toEqual({ status: 204 });
  });

  it('does not follow a redirect', async () => {
    receiver.behave((r) =>
      r.path === '/from' ? { status: 307, headers: { location: '/to' } } : { status: 204 },
    );
    const result = await post(`http://127.0.0.1:${receiver.port}/from`);
    expect(result.status).toBe(307);
    expect(result.error).toMatch(/307, a redirect to \/to; redirects are not followed/);
    expect(receiver.received.some((r) => r.path === '/to')).toBe(false);
    receiver.behave(() => ({ status: 204 }));
  });

  it('reads at most 4 KB of an answer and keeps a short excerpt of an error', async () => {
    receiver.behave(() => ({ status: 500, body: `oops\n${'x'.repeat(5 * 1024 * 1024)}` }));
    const started = Date.now();
    const result = await post(`http://127.0.0.1:${receiver.port}/big`);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result.status).toBe(500);
    expect(result.error).toMatch(/^the endpoint answered 500 Internal Server Error: oops x+$/);
    expect(result.error!.length).toBeLessThan(400);
    expect(RESPONSE_BODY_LIMIT).toBe(4096);
    receiver.behave(() => ({ status: 204 }));
  });

  it('gives up on an answer that does not come within the timeout', async () => {
    receiver.behave(() => 'hang');
    const started = Date.now();
    const result = await post(`http://127.0.0.1:${receiver.port}/slow`, { ...open, timeoutMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result).toEqual({ error: 'no answer within 0.3 s (timeout)' });
    receiver.behave(() => ({ status: 204 }));
  });

  it('reports a refused connection', async () => {
    const gone = await startReceiver();
    await gone.stop();
    expect(await post(`http://127.0.0.1:${gone.port}/x`)).toEqual({
      error: 'connection refused by 127.0.0.1',
    });
  });
});
