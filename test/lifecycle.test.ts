import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDb, type Db } from '../src/db/index.js';
import { startWorkers, type WorkerHandle } from '../workers/main.js';
import { call, testConfig } from './support/context.js';
import { cloneTemplate, dropDatabase } from './support/databases.js';
import { makeWorkspace } from './support/factories.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';
import { waitFor } from './support/processes.js';

let smtp: TestSmtp;
let db: Db;
let app: FastifyInstance;
let workers: WorkerHandle;
let name: string;

beforeAll(async () => {
  smtp = await startSmtp();
  name = await cloneTemplate();
  const config = testConfig(name, {
    SMTP_URL: smtp.url,
    PUBLIC_URL: 'https://provision.example.com',
    EMAIL_RATE_PER_SECOND: '100',
  });
  db = createDb(config.databaseUrl, { max: 6 });
  app = await buildApp({ config, db, logger: false });
  workers = await startWorkers({ config, db, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await workers?.close();
  await app?.close();
  await db?.destroy();
  await smtp?.close();
  if (name) await dropDatabase(name);
});

const mailTo = async (address: string, count = 1) => {
  await waitFor(() => smtp.received.filter((m) => m.to.includes(address)).length >= count);
  return smtp.received.filter((m) => m.to.includes(address));
};

const pathOf = (link: string): string => new URL(link).pathname + new URL(link).search;

describe('a user’s whole lifecycle', () => {
  it('create → e-mail with a link → page → accept → active, then edit, deactivate, reactivate, audit', async () => {
    const ws = await makeWorkspace(db, {
      roles: ['Admin', 'Customer Success'],
      locations: ['London', 'Paris'],
    });
    const created = await call(app, 'POST', '/v1/users', {
      token: ws.token,
      body: {
        givenName: 'Ann',
        familyName: 'Lee',
        email: 'ann.lee@example.com',
        role: 'Customer Success',
        location: 'London',
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const [mail] = await mailTo('ann.lee@example.com');
    expect(mail!.link).toMatch(/^https:\/\/provision\.example\.com\/invitations\/accept\?token=/);
    expect(mail!.messageId).toMatch(/^<invitation-[0-9a-f-]+@provision\.example\.com>$/);
    await waitFor(
      async () =>
        (await call(app, 'GET', `/v1/users/${id}`, { token: ws.token })).body.invitation.sentAt !== null,
    );

    const page = await app.inject({ method: 'GET', url: pathOf(mail!.link) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Accept invitation');
    const token = new URL(mail!.link).searchParams.get('token')!;
    const accepted = await app.inject({
      method: 'POST',
      url: '/invitations/accept',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}`,
    });
    expect(accepted.statusCode).toBe(200);

    const list = await call(app, 'GET', '/v1/users?status=active', { token: ws.token });
    expect(list.body.data.map((u: { email: string }) => u.email)).toEqual(['ann.lee@example.com']);

    const edited = await call(app, 'PATCH', `/v1/users/${id}`, {
      token: ws.token,
      body: { role: 'Admin', location: 'Paris' },
    });
    expect(edited.body).toMatchObject({ role: { name: 'Admin' }, location: { name: 'Paris' } });
    expect(
      (await call(app, 'PATCH', `/v1/users/${id}`, { token: ws.token, body: { status: 'deactivated' } })).body
        .status,
    ).toBe('deactivated');
    expect(
      (await call(app, 'PATCH', `/v1/users/${id}`, { token: ws.token, body: { status: 'active' } })).body
        .status,
    ).toBe('active');

    const audit = await call(app, 'GET', `/v1/audit?userId=${id}`, { token: ws.token });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'user.reactivated',
      'user.deactivated',
      'user.updated',
      'invitation.accepted',
      'user.created',
    ]);
    // Only one e-mail: an accepted user who is reactivated needs no new invitation.
    expect(smtp.received.filter((m) => m.to.includes('ann.lee@example.com'))).toHaveLength(1);
  });

  it('resend sends a second e-mail whose link replaces the first', async () => {
    const ws = await makeWorkspace(db);
    const created = await call(app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Bo Ek', email: 'bo@example.com', role: 'Admin' },
    });
    const [first] = await mailTo('bo@example.com');
    await call(app, 'POST', `/v1/users/${created.body.id}/invitation`, { token: ws.token });
    const mails = await mailTo('bo@example.com', 2);
    expect(mails[1]!.link).not.toBe(first!.link);
    expect(mails[1]!.messageId).not.toBe(first!.messageId);
    const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
    expect(
      (await call(app, 'POST', '/v1/invitations/accept', { body: { token: tokenOf(first!.link) } })).status,
    ).toBe(410);
    expect(
      (await call(app, 'POST', '/v1/invitations/accept', { body: { token: tokenOf(mails[1]!.link) } }))
        .status,
    ).toBe(200);
  });
});
