import { beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from '../src/auth/tokens.service.js';
import { OPERATOR_TOKEN, call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

const ctx = useTestContext();
let ws: { workspaceId: string; token: string; tokenPrefix: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
});

describe('bearer tokens', () => {
  it('answers 401 missing_token in the JSON envelope without a token', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: { code: 'missing_token', message: expect.any(String), requestId: res.headers['x-request-id'] },
    });
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['an unknown token', 'lp_abcdefghij_' + 'A'.repeat(43)],
    ['a malformed token', 'not-a-token'],
  ])('answers 401 invalid_token for %s', async (_label, token) => {
    const res = await call(ctx.app, 'GET', '/v1/roles', { token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_token');
  });

  it('answers 401 for a token whose secret part is wrong', async () => {
    const tampered = ws.token.slice(0, -4) + (ws.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await call(ctx.app, 'GET', '/v1/roles', { token: tampered })).status).toBe(401);
  });

  it('answers 401 for an Authorization header that is not Bearer', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles', { headers: { authorization: `Basic ${ws.token}` } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_token');
  });

  it('answers 403 insufficient_scope when the token lacks the route’s scope', async () => {
    const importsOnly = await makeToken(ctx.db, ws.workspaceId, ['imports']);
    const res = await call(ctx.app, 'GET', '/v1/roles', { token: importsOnly });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'insufficient_scope', requiredScope: 'users' });
  });

  it('stops accepting a token once it is revoked', async () => {
    const token = await makeToken(ctx.db, ws.workspaceId, ['users']);
    expect((await call(ctx.app, 'GET', '/v1/roles', { token })).status).toBe(200);
    expect(await revokeToken(ctx.db, token.slice(0, 13))).toBe('revoked');
    expect((await call(ctx.app, 'GET', '/v1/roles', { token })).status).toBe(401);
    expect(await revokeToken(ctx.db, token.slice(0, 13))).toBe('already_revoked');
  });

  it('stores only a hash and writes last_used_at at most once a minute', async () => {
    const token = await makeToken(ctx.db, ws.workspaceId, ['users']);
    const prefix = token.slice(0, 13);
    const read = () =>
      ctx.db
        .selectFrom('api_tokens')
        .select(['token_hash', 'last_used_at'])
        .where('prefix', '=', prefix)
        .executeTakeFirstOrThrow();
    expect((await read()).last_used_at).toBeNull();
    expect((await read()).token_hash.toString('utf8')).not.toContain(token.slice(14));
    await call(ctx.app, 'GET', '/v1/roles', { token });
    const first = (await read()).last_used_at;
    expect(first).toBeInstanceOf(Date);
    // Pretend the write was 30 s ago: another call within the minute must not write again.
    const thirtySecondsAgo = new Date(Date.now() - 30_000);
    await ctx.db
      .updateTable('api_tokens')
      .set({ last_used_at: thirtySecondsAgo })
      .where('prefix', '=', prefix)
      .execute();
    await call(ctx.app, 'GET', '/v1/roles', { token });
    expect((await read()).last_used_at?.getTime()).toBe(thirtySecondsAgo.getTime());
  });
});

describe('OPERATOR_TOKEN', () => {
  it('opens operator routes', async () => {
    const res = await call(ctx.app, 'GET', '/admin/stats', { token: OPERATOR_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.queues.maintenance).toMatchObject({ waiting: expect.any(Number) });
  });

  it('is refused by operator routes when a workspace token is sent', async () => {
    const res = await call(ctx.app, 'GET', '/admin/stats', { token: ws.token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_token');
  });

  it('opens no workspace route', async () => {
    const res = await call(ctx.app, 'GET', '/v1/roles', { token: OPERATOR_TOKEN });
    expect(res.status).toBe(401);
  });
});
