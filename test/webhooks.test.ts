import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSecret } from '../src/webhooks/secrets.js';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

// Tests set both switches; test/webhook-targets.test.ts runs without them.
const ctx = useTestContext({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });

let admin: string;
let usersOnly: string;
let workspaceId: string;
let other: string;

beforeAll(async () => {
  const ws = await makeWorkspace(ctx.db);
  workspaceId = ws.workspaceId;
  admin = await makeToken(ctx.db, workspaceId, ['admin']);
  usersOnly = await makeToken(ctx.db, workspaceId, ['users', 'imports', 'scim']);
  other = await makeToken(ctx.db, (await makeWorkspace(ctx.db)).workspaceId, ['admin']);
});

const create = (app: FastifyInstance, body: unknown, token = admin) =>
  call(app, 'POST', '/v1/webhooks', { token, body });

describe('POST /v1/webhooks', () => {
  it('answers 201 with a Standard Webhooks secret, shown once, stored only sealed', async () => {
    const res = await create(ctx.app, {
      url: 'http://127.0.0.1:9/hooks',
      events: ['user.deleted', 'user.created'],
      description: '  Data warehouse  ',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      events: ['user.created', 'user.deleted'],
      description: 'Data warehouse',
      enabled: true,
      disabledReason: null,
      failingSince: null,
    });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(res.body.secret.slice(6), 'base64')).toHaveLength(32);

    const row = await ctx.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_ciphertext.toString('latin1')).not.toContain(res.body.secret.slice(6));
    expect(JSON.stringify(row)).not.toContain(res.body.secret.slice(6));
    expect(openSecret(row.id, { ciphertext: row.secret_ciphertext, keyId: row.secret_key_id })?.secret).toBe(
      res.body.secret,
    );

    const again = await call(ctx.app, 'GET', `/v1/webhooks/${res.body.id}`, { token: admin });
    expect(again.status).toBe(200);
    expect(again.body).not.toHaveProperty('secret');
    const list = await call(ctx.app, 'GET', '/v1/webhooks', { token: admin });
    expect(JSON.stringify(list.body)).not.toContain(res.body.secret);
  });

  it('journals the creation without the secret', async () => {
    const res = await create(ctx.app, { url: 'http://127.0.0.1:9/journal', events: ['user.created'] });
    const audit = await call(ctx.app, 'GET', `/v1/audit?limit=5`, { token: admin });
    const entry = audit.body.data.find((e: { targetId: string }) => e.targetId === res.body.id);
    expect(entry).toMatchObject({
      action: 'webhook.created',
      targetType: 'webhook',
      changes: { url: { from: null, to: 'http://127.0.0.1:9/journal' } },
    });
    expect(JSON.stringify(entry)).not.toContain(res.body.secret);
  });

  const hook = 'https://example.com/x';
  it.each([
    ['a URL that is not one', 'invalid_url', { url: 'not a url', events: ['user.created'] }, /absolute URL/],
    [
      'an ftp URL',
      'invalid_url',
      { url: 'ftp://example.com/x', events: ['user.created'] },
      /https URL, not ftp/,
    ],
    [
      'a URL with a password',
      'invalid_url',
      { url: 'https://u:p@example.com/x', events: ['user.created'] },
      /user name or password/,
    ],
    [
      'a URL of 2,100 characters',
      'invalid_url',
      { url: `${hook}/${'a'.repeat(2100)}`, events: ['user.created'] },
      /longer than 2048/,
    ],
    [
      'an unknown event type',
      'unknown_event_type',
      { url: hook, events: ['user.exploded'] },
      /"user\.exploded" is not an event type; use one of user\.created/,
    ],
    ['no event type', 'no_event_types', { url: hook, events: [] }, /at least one event type/],
    [
      'an event type twice',
      'duplicate_event_type',
      { url: hook, events: ['user.created', 'user.created'] },
      /user\.created twice/,
    ],
    ['a body without events', 'validation_failed', { url: hook }, /'events' is required/],
    [
      'a secret of its own',
      'validation_failed',
      { url: hook, events: ['user.created'], secret: 'mine' },
      /'secret' is not a known field/,
    ],
  ])('refuses %s with 400 %s', async (_label, code, body, message) => {
    const res = await create(ctx.app, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
  });

  it('stops at 20 endpoints per workspace', async () => {
    const ws = await makeWorkspace(ctx.db);
    const token = await makeToken(ctx.db, ws.workspaceId, ['admin']);
    for (let i = 0; i < 20; i++)
      expect(
        (await create(ctx.app, { url: `http://127.0.0.1:9/${i}`, events: ['user.created'] }, token)).status,
      ).toBe(201);
    const res = await create(ctx.app, { url: 'http://127.0.0.1:9/21', events: ['user.created'] }, token);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('too_many_webhooks');
  });

  it('answers 403 without the admin scope, naming it', async () => {
    const res = await create(ctx.app, { url: 'http://127.0.0.1:9/x', events: ['user.created'] }, usersOnly);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'insufficient_scope', requiredScope: 'admin' });
    for (const [method, url] of [
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/webhooks/00000000-0000-7000-8000-000000000000'],
      ['POST', '/v1/webhooks/00000000-0000-7000-8000-000000000000/test'],
      ['GET', '/v1/webhooks/00000000-0000-7000-8000-000000000000/deliveries'],
    ] as const)
      expect((await call(ctx.app, method, url, { token: usersOnly })).status).toBe(403);
  });
});

describe('GET, PATCH, DELETE /v1/webhooks/:id', () => {
  it('lists, changes, disables, enables and deletes an endpoint', async () => {
    const { body: created } = await create(ctx.app, {
      url: 'http://127.0.0.1:9/a',
      events: ['user.created'],
    });
    const patched = await call(ctx.app, 'PATCH', `/v1/webhooks/${created.id}`, {
      token: admin,
      body: { url: 'http://127.0.0.1:9/b', events: ['user.updated', 'import.completed'], description: 'B' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      url: 'http://127.0.0.1:9/b',
      events: ['user.updated', 'import.completed'],
      description: 'B',
    });

    const off = await call(ctx.app, 'PATCH', `/v1/webhooks/${created.id}`, {
      token: admin,
      body: { enabled: false },
    });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'manual' });
    expect(off.body.disabledAt).not.toBeNull();
    const on = await call(ctx.app, 'PATCH', `/v1/webhooks/${created.id}`, {
      token: admin,
      body: { enabled: true },
    });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });

    const page = await call(ctx.app, 'GET', '/v1/webhooks?limit=1', { token: admin });
    expect(page.body.data).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));

    expect((await call(ctx.app, 'DELETE', `/v1/webhooks/${created.id}`, { token: admin })).status).toBe(204);
    expect((await call(ctx.app, 'GET', `/v1/webhooks/${created.id}`, { token: admin })).status).toBe(404);
    const audit = await call(ctx.app, 'GET', `/v1/audit?limit=10`, { token: admin });
    const actions = audit.body.data
      .filter((e: { targetId: string }) => e.targetId === created.id)
      .map((e: { action: string }) => e.action);
    expect(actions).toEqual([
      'webhook.deleted',
      'webhook.updated',
      'webhook.updated',
      'webhook.updated',
      'webhook.created',
    ]);
  });

  it('refuses an empty PATCH and an unknown event type in a PATCH', async () => {
    const { body: created } = await create(ctx.app, {
      url: 'http://127.0.0.1:9/c',
      events: ['user.created'],
    });
    const empty = await call(ctx.app, 'PATCH', `/v1/webhooks/${created.id}`, { token: admin, body: {} });
    expect(empty.status).toBe(400);
    const unknown = await call(ctx.app, 'PATCH', `/v1/webhooks/${created.id}`, {
      token: admin,
      body: { events: ['user.created', 'group.created'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_event_type');
  });

  it("keeps another workspace's endpoints and deliveries out of reach: 404", async () => {
    const { body: mine } = await create(ctx.app, {
      url: 'http://127.0.0.1:9/mine',
      events: ['user.created'],
    });
    const test = await call(ctx.app, 'POST', `/v1/webhooks/${mine.id}/test`, { token: admin });
    expect(test.status).toBe(202);
    const paths: [string, string, unknown?][] = [
      ['GET', `/v1/webhooks/${mine.id}`],
      ['PATCH', `/v1/webhooks/${mine.id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${mine.id}`],
      ['POST', `/v1/webhooks/${mine.id}/test`],
      ['GET', `/v1/webhooks/${mine.id}/deliveries`],
      ['POST', `/v1/webhooks/${mine.id}/deliveries/${test.body.id}/retry`],
    ];
    for (const [method, url, body] of paths) {
      const res = await call(ctx.app, method, url, { token: other, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body.error.code).toBe('webhook_not_found');
    }
    const list = await call(ctx.app, 'GET', '/v1/webhooks', { token: other });
    expect(list.body.data.map((e: { id: string }) => e.id)).not.toContain(mine.id);
    // Nothing changed: still there, enabled, with only its own test delivery.
    const still = await call(ctx.app, 'GET', `/v1/webhooks/${mine.id}`, { token: admin });
    expect(still.body.enabled).toBe(true);
    const deliveries = await ctx.db
      .selectFrom('webhook_deliveries')
      .select(['id'])
      .where('endpoint_id', '=', mine.id)
      .execute();
    expect(deliveries.map((d) => d.id)).toEqual([test.body.id]);
  });

  it('answers 404 for an unknown delivery and 409 for retrying one that did not fail', async () => {
    const { body: ep } = await create(ctx.app, { url: 'http://127.0.0.1:9/d', events: ['user.created'] });
    const test = await call(ctx.app, 'POST', `/v1/webhooks/${ep.id}/test`, { token: admin });
    expect(test.body).toMatchObject({ eventType: 'webhook.test', status: 'pending', attempts: 0 });
    const missing = await call(
      ctx.app,
      'POST',
      `/v1/webhooks/${ep.id}/deliveries/00000000-0000-7000-8000-000000000000/retry`,
      { token: admin },
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('delivery_not_found');
    const pending = await call(ctx.app, 'POST', `/v1/webhooks/${ep.id}/deliveries/${test.body.id}/retry`, {
      token: admin,
    });
    expect(pending.status).toBe(409);
    expect(pending.body.error).toMatchObject({ code: 'delivery_not_failed', status: 'pending' });
    const bad = await call(ctx.app, 'GET', `/v1/webhooks/${ep.id}/deliveries?status=lost`, { token: admin });
    expect(bad.status).toBe(400);
  });
});

describe('OpenAPI', () => {
  it('answers the webhook routes’ own request examples with their documented statuses', async () => {
    const doc = (await call(ctx.app, 'GET', '/docs/json')).body as {
      paths: Record<string, Record<string, any>>;
    };
    const example = (path: string, method: string): unknown =>
      doc.paths[path]![method].requestBody.content['application/json'].example;
    const created = await create(ctx.app, example('/v1/webhooks', 'post'));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const patched = await call(ctx.app, 'PATCH', `/v1/webhooks/${id}`, {
      token: admin,
      body: example('/v1/webhooks/{id}', 'patch'),
    });
    expect(patched.status).toBe(200);
    expect((await call(ctx.app, 'POST', `/v1/webhooks/${id}/test`, { token: admin })).status).toBe(202);
    for (const url of ['/v1/webhooks', `/v1/webhooks/${id}`, `/v1/webhooks/${id}/deliveries?status=pending`])
      expect((await call(ctx.app, 'GET', url, { token: admin })).status).toBe(200);
  });

  it('describes every webhook route with a summary, a description, enums and error answers', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, any>> };
    const routes = Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/webhooks'));
    expect(routes.map(([p]) => p).sort()).toEqual([
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/deliveries',
      '/v1/webhooks/{id}/deliveries/{deliveryId}/retry',
      '/v1/webhooks/{id}/test',
    ]);
    for (const [, methods] of routes)
      for (const op of Object.values(methods)) {
        expect(op.summary).toEqual(expect.any(String));
        expect(op.description).toEqual(expect.any(String));
        expect(op.responses['401']).toBeDefined();
        expect(op.responses['403']).toBeDefined();
      }
    const post = doc.paths['/v1/webhooks']!.post;
    const events = post.requestBody.content['application/json'].schema.properties.events;
    expect(events.items.enum).toContain('user.created');
    const deliveries = doc.paths['/v1/webhooks/{id}/deliveries']!.get;
    const status = deliveries.parameters.find((p: { name: string }) => p.name === 'status');
    expect(status.schema.enum).toEqual(['pending', 'succeeded', 'failed']);
  });
});
