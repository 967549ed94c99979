import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { call, testConfig, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

// The service as it runs in production: https only, public addresses only. `open` is the same service
// with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_NETWORKS, for an endpoint the strict one then edits.
const ctx = useTestContext();
let open: FastifyInstance;
let admin: string;

beforeAll(async () => {
  open = await buildApp({
    config: testConfig(ctx.databaseName, {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    }),
    db: ctx.db,
    logger: false,
  });
  await open.ready();
  admin = await makeToken(ctx.db, (await makeWorkspace(ctx.db)).workspaceId, ['admin']);
});
afterAll(async () => {
  await open?.close();
});

const create = (app: FastifyInstance, body: unknown) =>
  call(app, 'POST', '/v1/webhooks', { token: admin, body });
const strict = () => ctx.app;

describe('refused targets (WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_NETWORKS off)', () => {
  it.each([
    ['http://hooks.example.com/x', 'insecure_url', /must use https.*WEBHOOK_ALLOW_HTTP=true/],
    [
      'https://127.0.0.1/x',
      'private_address',
      /127\.0\.0\.1 is a loopback address.*WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/,
    ],
    ['https://10.1.2.3:8443/x', 'private_address', /10\.1\.2\.3 is a private network address/],
    ['https://192.168.0.10/x', 'private_address', /192\.168\.0\.10 is a private network address/],
    [
      'https://169.254.169.254/latest/meta-data',
      'private_address',
      /169\.254\.169\.254 is a link-local address/,
    ],
    ['https://[::1]/x', 'private_address', /::1 is a loopback address/],
    ['https://[fd00::5]/x', 'private_address', /fd00::5 is a private network address/],
    ['https://[::ffff:127.0.0.1]/x', 'private_address', /IPv4-mapped/],
    ['https://0.0.0.0/x', 'private_address', /unspecified/],
    [
      'https://localhost:8443/x',
      'private_address',
      /localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
    ],
  ])('refuses %s with 400 %s', async (url, code, message) => {
    const res = await create(strict(), { url, events: ['user.created'] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.field).toBe('url');
  });

  it('refuses a URL that is changed to a private address', async () => {
    const created = await create(open, { url: 'https://93.184.215.14/x', events: ['user.created'] });
    expect(created.status).toBe(201);
    const res = await call(strict(), 'PATCH', `/v1/webhooks/${created.body.id}`, {
      token: admin,
      body: { url: 'https://10.0.0.1/x' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('private_address');
    const after = await call(open, 'GET', `/v1/webhooks/${created.body.id}`, { token: admin });
    expect(after.body.url).toBe('https://93.184.215.14/x');
  });

  it('accepts an https URL with a public address', async () => {
    const res = await create(strict(), { url: 'https://93.184.215.14/hooks', events: ['user.created'] });
    expect(res.status).toBe(201);
  });
});
