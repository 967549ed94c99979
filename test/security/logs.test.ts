import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loggerOptions } from '../../src/app.js';
import { currentToken } from '../../src/provisioning/invitation-tokens.js';
import { call, useTestContext } from '../support/context.js';
import { makeToken, makeWorkspace } from '../support/factories.js';

/*
 * Secrets never reach the logs: bearer tokens (valid, wrong, malformed), invitation tokens (in the
 * acceptance link's query string and in bodies) and passwords an identity provider sends, at the most
 * verbose log level, captured from the app's own logger.
 */

const ctx = useTestContext();
let app: FastifyInstance;
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
});

afterAll(async () => {
  await app?.close();
});

describe('the logs', () => {
  it('never hold a bearer token, an invitation token or a password', async () => {
    const ws = await makeWorkspace(ctx.db);
    const scim = await makeToken(ctx.db, ws.workspaceId, ['scim']);
    // lp_ + a 10-character prefix + _ + the secret part (which may itself contain _).
    const secrets = [ws.token, scim, ws.token.slice(14), scim.slice(14)];
    expect(secrets.every((x) => x.length >= 32)).toBe(true);

    const created = await call(app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Logged Person', email: 'logged@example.com', role: 'Admin' },
    });
    expect(created.status).toBe(201);
    const invitation = await ctx.db
      .selectFrom('invitations')
      .select(['workspace_id', 'id'])
      .where('user_id', '=', created.body.id as string)
      .executeTakeFirstOrThrow();
    const invite = currentToken(invitation.workspace_id, invitation.id);
    secrets.push(invite);

    await call(app, 'GET', `/invitations/accept?token=${encodeURIComponent(invite)}`);
    await call(app, 'POST', '/v1/invitations/accept', { body: { token: invite } });
    await call(app, 'POST', '/v1/invitations/accept', { body: { token: `${invite}x` } });
    await call(app, 'GET', '/v1/users', { token: `${ws.token}x` });
    await call(app, 'GET', '/v1/users', { headers: { authorization: `Token ${ws.token}` } });
    await call(app, 'POST', '/scim/v2/Users', {
      token: scim,
      headers: { 'content-type': 'application/scim+json' },
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'pw@example.com',
        name: { givenName: 'Pass', familyName: 'Word' },
        password: 'S3cret-Passw0rd-in-a-log',
      },
    });
    secrets.push('S3cret-Passw0rd-in-a-log');

    expect(lines.length).toBeGreaterThan(1000);
    expect(lines).toContain('/invitations/accept');
    for (const secret of secrets) expect(lines).not.toContain(secret);
    expect(lines).not.toContain(encodeURIComponent(invite));
  });
});
