import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { producerConnection } from '../src/queues/connection.js';
import { Queues } from '../src/queues/producer.js';
import { importSweepTask, retentionSweepTask } from '../workers/sweep-tasks.js';
import { call, testConfig, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { multipart, upload, waitForImport } from './support/imports.js';
import { makeInvitations } from './support/invitations.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

let smtp: TestSmtp;
const ctx = useTestContext();
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp?.close();
});
// Registered after the SMTP server's hooks: the workers start after it and close before it.
useTestWorkers(ctx, { config: (config) => ({ ...config, smtpUrl: smtp.url }), logger });

describe('the import sweeper', () => {
  it('enqueues an import that was accepted while Redis was down', async () => {
    const ws = await makeWorkspace(ctx.db);
    const offline = await buildApp({
      config: testConfig(ctx.databaseName, { REDIS_URL: 'redis://127.0.0.1:1' }),
      db: ctx.db,
      logger: false,
    });
    const res = await upload(offline, ws.token, 'email,name\nlost@example.com,Lost\n');
    await offline.close();
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(ctx.app, 'GET', `/v1/imports/${res.body.id}`, { token: ws.token })).body.status).toBe(
      'queued',
    );
    const connection = producerConnection(ctx.config.redisUrl);
    const queues = new Queues(connection, ctx.config.queuePrefix);
    try {
      expect(await importSweepTask({ db: ctx.db, queues, logger }).run()).toBe(1);
      const done = await waitForImport(ctx.app, ws.token, res.body.id);
      expect(done.counts.created).toBe(1);
      expect(await importSweepTask({ db: ctx.db, queues, logger }).run()).toBe(0);
    } finally {
      await queues.close();
      connection.disconnect();
    }
  });
});

describe('retention', () => {
  it('purges the staged rows of old imports and keeps the summary', async () => {
    const ws = await makeWorkspace(ctx.db);
    const res = await upload(ctx.app, ws.token, 'email,name\nold@example.com,Old\n');
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    await ctx.db
      .updateTable('imports')
      .set({ finished_at: new Date(Date.now() - 31 * 86_400_000) })
      .where('id', '=', done.id)
      .execute();
    const connection = producerConnection(ctx.config.redisUrl);
    const queues = new Queues(connection, ctx.config.queuePrefix);
    try {
      expect(await retentionSweepTask({ db: ctx.db, queues, logger }, 30).run()).toBe(1);
    } finally {
      await queues.close();
      connection.disconnect();
    }
    const rows = await ctx.db
      .selectFrom('import_rows')
      .select('idx')
      .where('import_id', '=', done.id)
      .execute();
    expect(rows).toEqual([]);
    expect(
      (await call(ctx.app, 'GET', `/v1/imports/${done.id}`, { token: ws.token })).body.counts.created,
    ).toBe(1);
    const report = await call(ctx.app, 'GET', `/v1/imports/${done.id}/report.csv`, { token: ws.token });
    expect(report.status).toBe(410);
    expect(report.body.error.code).toBe('import_purged');
  });
});

describe('notifyEmail', () => {
  /** A user of the workspace with this e-mail, active unless said otherwise. */
  const member = async (workspaceId: string, email: string, status: 'active' | 'invited' = 'active') => {
    const [made] = await makeInvitations(ctx.db, workspaceId, 1, { email: () => email });
    await ctx.db.updateTable('users').set({ status }).where('id', '=', made!.userId).execute();
  };

  it('sends a summary to an active user of the workspace, with no file name in its subject', async () => {
    const ws = await makeWorkspace(ctx.db);
    await member(ws.workspaceId, 'ops@example.com');
    const body = multipart([
      { name: 'notifyEmail', value: 'OPS@example.com' },
      { name: 'sendInvites', value: 'false' },
      { name: 'file', file: 'email,name\nn1@example.com,N\nbad,B\n', filename: 'Claim your prize now.csv' },
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    await waitForImport(ctx.app, ws.token, res.json<{ id: string }>().id);
    const toOps = (m: { to: string[] }) => m.to.some((to) => to.toLowerCase() === 'ops@example.com');
    for (let i = 0; i < 50 && !smtp.received.some(toOps); i++) await new Promise((r) => setTimeout(r, 100));
    const mail = smtp.received.find(toOps);
    expect(mail).toBeDefined();
    expect(mail!.raw).toContain('1 created');
    expect(mail!.raw).toContain('1 failed');
    const subject = /^Subject: (.*)$/im.exec(mail!.raw)![1]!;
    expect(subject).toMatch(/^Loopit import completed with errors/);
    expect(subject).not.toMatch(/prize/i);
  });

  it('refuses with 400 notify_email_not_member an address that is no active user of the workspace', async () => {
    const ws = await makeWorkspace(ctx.db);
    const other = await makeWorkspace(ctx.db);
    await member(ws.workspaceId, 'invited@example.com', 'invited');
    await member(other.workspaceId, 'elsewhere@example.com');
    for (const address of ['stranger@example.com', 'invited@example.com', 'elsewhere@example.com']) {
      const res = await upload(ctx.app, ws.token, 'email,name\nx@example.com,X\n', `notifyEmail=${address}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'notify_email_not_member', field: 'notifyEmail' });
    }
    const list = await call(ctx.app, 'GET', '/v1/imports', { token: ws.token });
    expect(list.body.data).toEqual([]);
  });
});
