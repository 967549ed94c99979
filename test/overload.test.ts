import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { call, testConfig, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

/*
 * Overload answers 429 / 503 with Retry-After instead of falling over: a per-token rate limit counted
 * in Redis (shared by every API process), and a 503 while the event loop lags.
 */

const ctx = useTestContext();
const apps: FastifyInstance[] = [];

async function app(env: Record<string, string>): Promise<FastifyInstance> {
  const instance = await buildApp({ config: testConfig(ctx.databaseName, env), db: ctx.db, logger: false });
  await instance.ready();
  // Counts made before Redis connects are skipped (the limit fails open): start counting once it is up.
  if (env.REDIS_URL === undefined) expect(await instance.redisReady()).toBe(true);
  apps.push(instance);
  return instance;
}

let ws: { workspaceId: string; token: string };
let scim: string;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
  scim = await makeToken(ctx.db, ws.workspaceId, ['scim']);
});

afterAll(async () => {
  for (const a of apps) await a.close();
});

describe('the rate limit per token', () => {
  it('answers 429 with Retry-After past the limit, in the JSON and the SCIM envelopes, per token', async () => {
    const limited = await app({ RATE_LIMIT_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++)
      expect((await call(limited, 'GET', '/v1/users', { token: ws.token })).status).toBe(200);
    const over = await call(limited, 'GET', '/v1/users', { token: ws.token });
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.body.error).toMatchObject({ code: 'rate_limited', limit: 3 });

    for (let i = 0; i < 3; i++) await call(limited, 'GET', '/scim/v2/Users', { token: scim });
    const scimOver = await call(limited, 'GET', '/scim/v2/Users', { token: scim });
    expect(scimOver.status).toBe(429);
    expect(scimOver.headers['retry-after']).toBeDefined();
    expect(scimOver.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
    });

    // A wrong secret behind the same public prefix spends the address's bucket; /healthz is never limited.
    const forged = `${ws.token.slice(0, 14)}AAAA`;
    expect((await call(limited, 'GET', '/v1/users', { token: forged })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await call(limited, 'GET', '/healthz')).status).toBe(200);
  });

  it('gives a token one bucket however the header spells the scheme and the spaces', async () => {
    const limited = await app({ RATE_LIMIT_PER_MINUTE: '4' });
    const token = await makeToken(ctx.db, ws.workspaceId, ['users']);
    const spellings = [`bearer ${token}`, `BEARER ${token}`, `Bearer  ${token}`, `Bearer\t${token} `];
    for (const authorization of spellings) {
      const res = await call(limited, 'GET', '/v1/roles', { headers: { authorization } });
      expect(res.status).toBe(200);
    }
    const over = await call(limited, 'GET', '/v1/roles', {
      headers: { authorization: `bEaReR \t ${token}` },
    });
    expect(over.status).toBe(429);
    // Another token of the same workspace has its own bucket.
    expect((await call(limited, 'GET', '/v1/roles', { token: ws.token })).status).toBe(200);
  });

  it('counts a caller without a valid token by address, whatever Authorization it sends', async () => {
    const limited = await app({ RATE_LIMIT_PER_MINUTE: '4' });
    const forged = `${ws.token.slice(0, 14)}${'A'.repeat(ws.token.length - 14)}`;
    const headers: Record<string, string>[] = [
      { authorization: 'Bearer random-1' },
      { authorization: 'Basic eDp5' },
      { authorization: `Bearer ${forged}` },
      {},
    ];
    for (const h of headers)
      expect((await call(limited, 'GET', '/v1/roles', { headers: h })).status).toBe(401);
    const over = await call(limited, 'GET', '/v1/roles', {
      headers: { authorization: 'Bearer random-2', 'x-random': 'r' },
    });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    // A valid token is counted apart from its address.
    expect((await call(limited, 'GET', '/v1/roles', { token: ws.token })).status).toBe(200);
  });

  it('is shared by every API process (counted in Redis)', async () => {
    const prefix = `{shared-${Date.now()}}`;
    const first = await app({ RATE_LIMIT_PER_MINUTE: '2', QUEUE_PREFIX: prefix });
    const second = await app({ RATE_LIMIT_PER_MINUTE: '2', QUEUE_PREFIX: prefix });
    const token = await makeToken(ctx.db, ws.workspaceId, ['users']);
    expect((await call(first, 'GET', '/v1/roles', { token })).status).toBe(200);
    expect((await call(second, 'GET', '/v1/roles', { token })).status).toBe(200);
    expect((await call(first, 'GET', '/v1/roles', { token })).status).toBe(429);
  });

  it('lets requests through when Redis is down: Redis carries work, it does not gate the API', async () => {
    const offline = await app({ RATE_LIMIT_PER_MINUTE: '1', REDIS_URL: 'redis://127.0.0.1:1' });
    for (let i = 0; i < 3; i++)
      expect((await call(offline, 'GET', '/v1/roles', { token: ws.token })).status).toBe(200);
  });
});

describe('a saturated process', () => {
  it('answers 503 with Retry-After while its event loop lags, and recovers; /healthz stays 200', async () => {
    const busy = await app({ MAX_EVENT_LOOP_DELAY_MS: '20', RATE_LIMIT_PER_MINUTE: '0' });
    // Saturate the event loop for two seconds, as a flood of work would: every turn takes 60 ms.
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      const turn = Date.now() + 60;
      while (Date.now() < turn) {
        // busy
      }
      await new Promise((r) => setImmediate(r));
    }
    const res = await call(busy, 'GET', '/v1/roles', { token: ws.token });
    const live = await call(busy, 'GET', '/healthz');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('10');
    expect(res.body.error.code).toBe('overloaded');
    expect(live.status).toBe(200);
    let recovered = 0;
    for (let i = 0; i < 50 && recovered !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      recovered = (await call(busy, 'GET', '/v1/roles', { token: ws.token })).status;
    }
    expect(recovered).toBe(200);
  });
});
