import { beforeAll, describe, expect, it } from 'vitest';
import { currentToken } from '../src/provisioning/invitation-tokens.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeUser, makeWorkspace } from './support/factories.js';

const ctx = useTestContext();
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
});

const createUser = async (email: string) =>
  (await makeUser(ctx.app, ws.token, { name: 'Invitee', email, role: 'Admin' })).body as { id: string };

/** The token of the user's newest invitation, rebuilt the way the e-mail drain does. */
const tokenOf = async (userId: string): Promise<string> => {
  const inv = await ctx.db
    .selectFrom('invitations')
    .select(['workspace_id', 'id'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  return currentToken(inv.workspace_id, inv.id);
};

const accept = (token: string) => call(ctx.app, 'POST', '/v1/invitations/accept', { body: { token } });

describe('POST /v1/invitations/accept', () => {
  it('activates the user once; a second use is 409 invitation_used', async () => {
    const user = await createUser('accept@example.com');
    const token = await tokenOf(user.id);
    const res = await accept(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: user.id, email: 'accept@example.com', status: 'active' });
    const after = await call(ctx.app, 'GET', `/v1/users/${user.id}`, { token: ws.token });
    expect(after.body).toMatchObject({ status: 'active', invitation: { status: 'accepted' } });
    const again = await accept(token);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invitation_used');
  });

  it('answers 404 invitation_not_found for an unknown token, with no bearer needed', async () => {
    const res = await accept('not-a-real-token');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('invitation_not_found');
  });

  it('answers 410 invitation_expired after the expiry, and leaves the user invited', async () => {
    const user = await createUser('late@example.com');
    await ctx.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    const res = await accept(await tokenOf(user.id));
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('invitation_expired');
    expect((await call(ctx.app, 'GET', `/v1/users/${user.id}`, { token: ws.token })).body).toMatchObject({
      status: 'invited',
      invitation: { status: 'expired' },
    });
  });

  it('resending revokes the old token (410) and the new one works', async () => {
    const user = await createUser('resend@example.com');
    const old = await tokenOf(user.id);
    const res = await call(ctx.app, 'POST', `/v1/users/${user.id}/invitation`, { token: ws.token });
    expect(res.status).toBe(200);
    expect(res.body.invitation.status).toBe('pending');
    const fresh = await tokenOf(user.id);
    expect(fresh).not.toBe(old);
    expect((await accept(old)).status).toBe(410);
    expect((await accept(fresh)).status).toBe(200);
    const resendActive = await call(ctx.app, 'POST', `/v1/users/${user.id}/invitation`, { token: ws.token });
    expect(resendActive.status).toBe(409);
    expect(resendActive.body.error.code).toBe('user_not_invited');
  });

  it('refuses the invitation of a deactivated user (410)', async () => {
    const user = await createUser('off@example.com');
    const token = await tokenOf(user.id);
    await call(ctx.app, 'PATCH', `/v1/users/${user.id}`, {
      token: ws.token,
      body: { status: 'deactivated' },
    });
    expect((await accept(token)).status).toBe(410);
  });

  it('is an audit event with the actor "invitation"', async () => {
    const user = await createUser('audited@example.com');
    await accept(await tokenOf(user.id));
    const audit = await call(ctx.app, 'GET', `/v1/audit?userId=${user.id}&action=invitation.accepted`, {
      token: ws.token,
    });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({
      actor: 'invitation',
      changes: { status: { from: 'invited', to: 'active' } },
    });
  });
});

describe('GET /invitations/accept', () => {
  it('shows a page whose button POSTs, and opening it accepts nothing', async () => {
    const user = await createUser('page@example.com');
    const token = await tokenOf(user.id);
    const page = await ctx.app.inject({ method: 'GET', url: `/invitations/accept?token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<form method="post" action="/invitations/accept">');
    expect(page.body).toContain(`value="${token}"`);
    expect((await call(ctx.app, 'GET', `/v1/users/${user.id}`, { token: ws.token })).body.status).toBe(
      'invited',
    );
    const posted = await ctx.app.inject({
      method: 'POST',
      url: '/invitations/accept',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}`,
    });
    expect(posted.statusCode).toBe(200);
    expect(posted.body).toContain('Welcome to Loopit');
    expect((await call(ctx.app, 'GET', `/v1/users/${user.id}`, { token: ws.token })).body.status).toBe(
      'active',
    );
    const used = await ctx.app.inject({ method: 'GET', url: `/invitations/accept?token=${token}` });
    expect(used.statusCode).toBe(409);
    expect(used.body).toContain('Already accepted');
  });

  it('escapes what it echoes and shows not found for a bad token', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/invitations/accept?token=%22%3E%3Cscript%3E' });
    expect(page.statusCode).toBe(404);
    expect(page.body).not.toContain('<script>');
  });
});

describe('POST /v1/invitations/resend', () => {
  useTestWorkers(ctx);

  it('re-invites, as a job, the invited users whose invitation expired', async () => {
    const other = await makeWorkspace(ctx.db);
    const make = (email: string) =>
      call(ctx.app, 'POST', '/v1/users', { token: other.token, body: { name: 'R', email, role: 'Admin' } });
    const expired = [(await make('e1@example.com')).body.id, (await make('e2@example.com')).body.id];
    const fresh = (await make('f1@example.com')).body.id;
    await ctx.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', 'in', expired)
      .execute();
    const res = await call(ctx.app, 'POST', '/v1/invitations/resend', {
      token: other.token,
      body: { status: 'expired' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', invitationStatus: 'expired' });
    let state = res.body;
    for (let i = 0; i < 100 && state.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await call(ctx.app, 'GET', `/v1/invitations/resend/${res.body.id}`, { token: other.token }))
        .body;
    }
    expect(state).toMatchObject({ status: 'completed', matched: 2, resent: 2 });
    for (const id of expired) {
      expect(
        (await call(ctx.app, 'GET', `/v1/users/${id}`, { token: other.token })).body.invitation.status,
      ).toBe('pending');
    }
    const untouched = await ctx.db
      .selectFrom('invitations')
      .select('id')
      .where('user_id', '=', fresh)
      .execute();
    expect(untouched).toHaveLength(1);
    expect(
      (await call(ctx.app, 'GET', `/v1/invitations/resend/${res.body.id}`, { token: ws.token })).status,
    ).toBe(404);
  });
});
