import { describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { readOn, readUntil, type FeedEvent } from './support/events.js';
import { makeToken, makeWorkspace } from './support/factories.js';

/** The feed's paging, filters and refusals; scope and tenancy. */
const ctx = useTestContext();

describe('GET /v1/events: filters, paging and refusals', () => {
  /** A workspace with a few events of several types: 4 created, 2 deactivated, 1 deleted. */
  async function busyWorkspace() {
    const ws = await makeWorkspace(ctx.db);
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const res = await call(ctx.app, 'POST', '/v1/users', {
        token: ws.token,
        body: { name: `P ${n}`, email: `p${n}@example.com`, role: 'Admin', sendInvite: false },
      });
      ids.push(res.body.id);
    }
    const bulk = await call(ctx.app, 'POST', '/v1/users/bulk', {
      token: ws.token,
      body: { action: 'deactivate', ids: ids.slice(0, 2) },
    });
    expect(bulk.status).toBe(200);
    await call(ctx.app, 'DELETE', `/v1/users/${ids[3]}`, { token: ws.token });
    const all = (await readUntil(ctx.app, ws.token, 7)).events;
    return { ...ws, ids, all };
  }

  it('filters by types, and pages through with a small limit giving every event once, in order', async () => {
    const ws = await busyWorkspace();
    expect(ws.all.map((e) => e.type)).toEqual([
      ...Array(4).fill('user.created'),
      'user.deactivated',
      'user.deactivated',
      'user.deleted',
    ]);
    const only = await readOn(ctx.app, ws.token, { types: 'user.deactivated, user.deleted' });
    expect(only.events.map((e) => e.id)).toEqual(ws.all.slice(4).map((e) => e.id));
    // An empty types is no filter.
    expect((await readOn(ctx.app, ws.token, { types: '' })).events).toEqual(ws.all);

    for (const limit of [1, 2, 3]) {
      const pages: string[][] = [];
      let after: string | null = null;
      for (;;) {
        const res = await call(ctx.app, 'GET', `/v1/events?limit=${limit}${after ? `&after=${after}` : ''}`, {
          token: ws.token,
        });
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(limit);
        pages.push(res.body.data.map((e: FeedEvent) => e.id));
        expect(res.body.next).not.toBeNull();
        if (!res.body.hasMore) {
          // At the end: nothing new, and next stays where it is.
          const again = await call(ctx.app, 'GET', `/v1/events?after=${res.body.next}`, { token: ws.token });
          expect(again.body).toEqual({ data: [], next: res.body.next, hasMore: false });
          break;
        }
        after = res.body.next;
      }
      expect(pages.flat()).toEqual(ws.all.map((e) => e.id));
    }
    // limit defaults to 100 and answers every event here.
    const first = await call(ctx.app, 'GET', '/v1/events', { token: ws.token });
    expect(first.body.data).toEqual(ws.all);
  });

  it('refuses a bad cursor, an unknown type and a bad limit with 400, naming the problem', async () => {
    const ws = await makeWorkspace(ctx.db);
    const get = (q: string) => call(ctx.app, 'GET', `/v1/events?${q}`, { token: ws.token });
    const forged = Buffer.from('12:not-a-uuid').toString('base64url');
    const huge = Buffer.from(`${2n ** 64n}:01a243dc-fb92-77d9-8f61-1b2a09c1fecd`).toString('base64url');
    for (const after of [
      'garbage!',
      forged,
      huge,
      'x'.repeat(150),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      const res = await get(`after=${encodeURIComponent(after)}`);
      expect([res.status, res.body.error.code, res.body.error.field], after).toEqual([
        400,
        'invalid_cursor',
        'after',
      ]);
    }
    const unknown = await get('types=user.created,user.exploded,group.created');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: 'unknown_event_type',
      field: 'types',
      types: ['user.exploded', 'group.created'],
    });
    expect(unknown.body.error.message).toContain("'user.exploded'");
    for (const limit of ['0', '1001', 'abc', '1.5', '-1']) {
      const res = await get(`limit=${limit}`);
      expect([res.status, res.body.error.code], limit).toEqual([400, 'invalid_limit']);
    }
    expect((await get('limit=1000')).status).toBe(200);
    expect((await get('cursor=abc')).body.error.code).toBe('validation_failed');
  });

  it('needs the events scope, and shows a workspace only its own events', async () => {
    const a = await busyWorkspace();
    const b = await makeWorkspace(ctx.db);
    const users = await makeToken(ctx.db, a.workspaceId, ['users', 'admin', 'imports', 'scim']);
    const refused = await call(ctx.app, 'GET', '/v1/events', { token: users });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'insufficient_scope', requiredScope: 'events' });
    const eventsOnly = await makeToken(ctx.db, a.workspaceId, ['events']);
    expect((await readOn(ctx.app, eventsOnly)).events).toEqual(a.all);

    await call(ctx.app, 'POST', '/v1/users', {
      token: b.token,
      body: { name: 'B One', email: 'b1@example.com', role: 'Admin' },
    });
    const seen = (await readUntil(ctx.app, b.token, 1)).events;
    expect(seen.map((e) => [e.type, e.workspaceId, e.data.email])).toEqual([
      ['user.created', b.workspaceId, 'b1@example.com'],
    ]);
    // A's cursor is only a place in the order: read with B's token it still shows B's events only.
    const aCursor = (await call(ctx.app, 'GET', '/v1/events?limit=1', { token: a.token })).body.next;
    const fromA = await readOn(ctx.app, b.token, { after: aCursor });
    expect(fromA.events.map((e) => e.id)).toEqual(seen.map((e) => e.id));
    expect(fromA.events.every((e) => e.workspaceId === b.workspaceId)).toBe(true);
    expect(JSON.stringify(await readOn(ctx.app, b.token))).not.toContain('p1@example.com');
  });
});

describe('the OpenAPI of the feed', () => {
  it('declares GET /v1/events with its scope, parameters, summary, description and answers', async () => {
    const doc = (await call(ctx.app, 'GET', '/docs/json')).body;
    const op = doc.paths['/v1/events'].get;
    expect(op.summary).toBeTruthy();
    expect(op.description).toContain('after');
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['after', 'limit', 'types']);
    expect(Object.keys(op.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '410',
      '429',
      '500',
      '503',
    ]);
    const ref: string = op.responses['200'].content['application/json'].schema.properties.data.items.$ref;
    const event = doc.components.schemas[ref.split('/').pop()!];
    // Unions of literals read as one enum in the OpenAPI.
    expect(event.properties.type.enum).toEqual([
      'user.created',
      'user.updated',
      'user.deactivated',
      'user.reactivated',
      'user.deleted',
      'invitation.accepted',
      'import.completed',
      'import.failed',
      'import.reverted',
    ]);
  });
});
