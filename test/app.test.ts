import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { call, testConfig, useTestContext } from './support/context.js';

const ctx = useTestContext();

describe('application shell', () => {
  it('answers /healthz and /readyz when Postgres and Redis are up', async () => {
    expect((await call(ctx.app, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await call(ctx.app, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers /readyz 503 with Retry-After when Redis does not answer', async () => {
    const app = await buildApp({
      config: testConfig(ctx.databaseName, { REDIS_URL: 'redis://127.0.0.1:1' }),
      db: ctx.db,
      logger: false,
    });
    try {
      const res = await call(app, 'GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.error).toMatchObject({
        code: 'not_ready',
        checks: { postgres: 'ok', redis: 'unavailable' },
      });
    } finally {
      await app.close();
    }
  });

  it('puts x-request-id on every response and repeats it in errors', async () => {
    const missing = await call(ctx.app, 'GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('route_not_found');
    expect(missing.body.error.requestId).toBe(missing.headers['x-request-id']);
    expect((await call(ctx.app, 'GET', '/healthz')).headers['x-request-id']).toEqual(expect.any(String));
  });

  it('keeps a well-formed x-request-id from the caller and replaces a bad one', async () => {
    const kept = await call(ctx.app, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await call(ctx.app, 'GET', '/healthz', {
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(replaced.headers['x-request-id']).not.toBe('bad id <script>');
  });

  it('answers SCIM paths in the SCIM error envelope, 401 included', async () => {
    const res = await call(ctx.app, 'GET', '/scim/v2/Nothing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
    });
    const anon = await call(ctx.app, 'GET', '/scim/v2/Users');
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
    });
  });

  it('serves OpenAPI built from the route schemas at /docs', async () => {
    const res = await call(ctx.app, 'GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/roles', '/v1/roles/{id}', '/v1/locations']),
    );
    expect((await ctx.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('refuses to start when a route declares no scope, operator or public access', async () => {
    const app = await buildApp({ config: ctx.config, db: ctx.db, logger: false });
    expect(() => app.get('/v1/unguarded', async () => ({}))).toThrow(/declares no scope/);
    await app.close();
  });
});
