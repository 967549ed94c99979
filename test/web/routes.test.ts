import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { webRoot } from '../../src/web/web.routes.js';
import { call, useTestContext } from '../support/context.js';

const ctx = useTestContext();
const built = existsSync(path.join(webRoot(), 'index.html'));

describe('the web app under /app', () => {
  it('is built into dist/web by npm run build', () => {
    expect(built, `run npm run build first: ${webRoot()} has no index.html`).toBe(true);
  });

  it('serves index.html for every app path, never cached, under the strict CSP with no inline script', async () => {
    for (const url of ['/app/', '/app/imports', '/app/imports/0190a1b2-0000-7000-8000-000000000000']) {
      const res = await call(ctx.app, 'GET', url);
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      const html = res.body as string;
      expect(html).toMatch(/<script type="module" crossorigin src="\/app\/assets\/[\w-]+\.js"><\/script>/);
      expect(html.match(/<script/g)).toHaveLength(1);
    }
  });

  it('serves the hashed assets for a year and 404s for anything else under assets/', async () => {
    const assets = readdirSync(path.join(webRoot(), 'assets'));
    const script = assets.find((a) => a.endsWith('.js'))!;
    const res = await call(ctx.app, 'GET', `/app/assets/${script}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await call(ctx.app, 'GET', '/app/assets/nope.js')).status).toBe(404);
    expect((await call(ctx.app, 'GET', '/app/assets/..%2f..%2fpackage.json')).status).toBe(404);
  });

  it('sends / and /app to /app/', async () => {
    for (const url of ['/', '/app']) {
      const res = await call(ctx.app, 'GET', url);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/app/');
    }
  });
});
