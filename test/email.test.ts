import type { Job } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { drainSlice, type DrainDeps } from '../src/email/drain.service.js';
import { invitationEmail } from '../src/email/templates.js';
import { createMailer, type Mailer } from '../src/email/transport.js';
import { invitationKeys, invitationMessageId, readToken } from '../src/provisioning/invitation-tokens.js';
import { drainJobId, enqueueDrain } from '../src/queues/drain.js';
import type { WorkerContext } from '../workers/context.js';
import { drain } from '../workers/email.js';
import { startWorkers } from '../workers/main.js';
import { outboxSweepTask } from '../workers/sweep-tasks.js';
import { testConfig, useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { makeInvitations, outboxRows } from './support/invitations.js';
import { failNextJob, withQueues } from './support/queues.js';
import { waitFor } from './support/processes.js';
import { closedPort, startSmtp, type TestSmtp } from './support/smtp.js';

const ctx = useTestContext();
const silent = pino({ level: 'silent' });

const smtpConfig = (url: string): Config => ({ ...ctx.config, smtpUrl: url });
const deps = (mailer: Mailer, extra: Partial<DrainDeps> = {}): DrainDeps => ({
  db: ctx.db,
  mailer,
  config: ctx.config,
  logger: silent,
  ...extra,
});
const newWorkspace = async () => (await makeWorkspace(ctx.db)).workspaceId;

describe('invitationEmail', () => {
  const rendered = invitationEmail({
    workspaceName: 'Acme <Ops> & "Co"',
    recipientName: '<script>alert(1)</script>',
    email: 'ana@example.test',
    link: 'https://loopit.example/invitations/accept?token=abc&x=<1>',
    expiresAt: new Date('2026-12-04T10:00:00Z'),
  });

  it('escapes every value it puts into the HTML', () => {
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(rendered.html).toContain('Acme &lt;Ops&gt; &amp; &quot;Co&quot;');
    expect(rendered.html).toContain(
      'href="https://loopit.example/invitations/accept?token=abc&amp;x=&lt;1&gt;"',
    );
  });

  it('says when the link expires and that the button on the page accepts', () => {
    expect(rendered.text).toContain('expires on Friday 4 December 2026 at 10:00 UTC');
    expect(rendered.text).toMatch(/press the "Accept invitation" button on the page/);
    expect(rendered.text).toContain('https://loopit.example/invitations/accept?token=abc&x=<1>');
    expect(rendered.subject).toBe('You are invited to join Acme <Ops> & "Co" on Loopit');
  });
});

describe('drainSlice over SMTP', () => {
  let smtp: TestSmtp;
  let mailer: Mailer;
  const refused = new Map<string, number>();
  beforeAll(async () => {
    smtp = await startSmtp({ rcptReply: (address) => refused.get(address) });
    mailer = createMailer(smtpConfig(smtp.url), silent);
  });
  afterAll(async () => {
    mailer.close();
    await smtp.close();
  });
  const receivedBy = (emails: string[]) => smtp.received.filter((r) => emails.includes(r.to[0]!));

  it('sends each queued invitation once, with its stable Message-ID and a link to its token', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 3);
    expect(await drainSlice(deps(mailer), ws, 10)).toEqual({ sent: 3, failed: 0, more: false });
    expect(await drainSlice(deps(mailer), ws, 10)).toEqual({ sent: 0, failed: 0, more: false });

    const got = receivedBy(made.map((m) => m.email));
    expect(got).toHaveLength(3);
    const rows = await outboxRows(ctx.db, ws);
    for (const [i, m] of made.entries()) {
      const message = got.find((g) => g.to[0] === m.email)!;
      expect(message.messageId).toBe(invitationMessageId(ctx.config.publicUrl, m.id));
      const token = decodeURIComponent(new URL(message.link).searchParams.get('token')!);
      expect(message.link.startsWith(`${ctx.config.publicUrl}/invitations/accept?token=`)).toBe(true);
      // The link's token names this invitation, under the current key.
      expect(readToken(invitationKeys(), token)).toEqual({ workspaceId: ws, invitationId: m.id });
      expect(rows[i]).toMatchObject({ send_state: 'sent', send_attempts: 1, sending_since: null });
      expect(rows[i]!.sent_at).toBeInstanceOf(Date);
    }
  });

  it('sends in slices and says whether more remain', async () => {
    const ws = await newWorkspace();
    await makeInvitations(ctx.db, ws, 5);
    expect(await drainSlice(deps(mailer), ws, 2)).toEqual({ sent: 2, failed: 0, more: true });
    expect(await drainSlice(deps(mailer), ws, 2)).toEqual({ sent: 2, failed: 0, more: true });
    expect(await drainSlice(deps(mailer), ws, 2)).toEqual({ sent: 1, failed: 0, more: false });
  });

  it('marks a permanently refused message failed and never sends it again', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 3);
    refused.set(made[1]!.email, 550);
    expect(await drainSlice(deps(mailer), ws, 10)).toEqual({ sent: 2, failed: 1, more: false });
    expect(await drainSlice(deps(mailer), ws, 10)).toEqual({ sent: 0, failed: 0, more: false });
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => r.send_state)).toEqual(['sent', 'failed', 'sent']);
    expect(rows[1]!.last_error).toMatch(/550/);
    expect(receivedBy(made.map((m) => m.email))).toHaveLength(2);
  });

  it('puts a transiently refused message back, hands back the rest, throws, and gives up after 5 attempts', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 3);
    refused.set(made[1]!.email, 451);
    await expect(drainSlice(deps(mailer), ws, 10)).rejects.toThrow(/451/);
    let rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => [r.send_state, r.send_attempts])).toEqual([
      ['sent', 1],
      ['queued', 1],
      ['queued', 0],
    ]);
    expect(rows[1]!.last_error).toMatch(/451/);
    for (let attempt = 2; attempt <= 5; attempt++)
      await expect(drainSlice(deps(mailer), ws, 10)).rejects.toThrow();
    rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => r.send_state)).toEqual(['sent', 'failed', 'queued']);
    expect(await drainSlice(deps(mailer), ws, 10)).toEqual({ sent: 1, failed: 0, more: false });
    expect(receivedBy(made.map((m) => m.email)).map((r) => r.to[0])).toEqual([
      made[0]!.email,
      made[2]!.email,
    ]);
  });

  it('does not send expired or revoked invitations, and marks them not_sent', async () => {
    const ws = await newWorkspace();
    const expired = await makeInvitations(ctx.db, ws, 1, { expiresAt: new Date(Date.now() - 1000) });
    const revoked = await makeInvitations(ctx.db, ws, 1, { status: 'revoked' });
    const pending = await makeInvitations(ctx.db, ws, 1);
    expect(await drainSlice(deps(mailer), ws, 1)).toEqual({ sent: 1, failed: 0, more: false });
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => r.send_state)).toEqual(['not_sent', 'not_sent', 'sent']);
    expect(rows.map((r) => r.send_attempts)).toEqual([0, 0, 1]);
    const emails = [...expired, ...revoked, ...pending].map((m) => m.email);
    expect(receivedBy(emails).map((r) => r.to[0])).toEqual([pending[0]!.email]);
  });

  it('stops a slice when asked and hands back what it did not get to', async () => {
    const ws = await newWorkspace();
    await makeInvitations(ctx.db, ws, 4);
    let calls = 0;
    const result = await drainSlice(deps(mailer, { shouldStop: () => ++calls > 2 }), ws, 4);
    expect(result).toEqual({ sent: 2, failed: 0, more: true });
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => [r.send_state, r.send_attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
      ['queued', 0],
      ['queued', 0],
    ]);
  });
});

describe('drainSlice over several SMTP connections', () => {
  // A server that takes 100 ms to acknowledge each message, as a distant provider does: one message at a
  // time would cap a worker at 10 a second whatever EMAIL_RATE_PER_SECOND says.
  let smtp: TestSmtp;
  let mailer: Mailer;
  const refused = new Map<string, number>();
  beforeAll(async () => {
    smtp = await startSmtp({ dataDelayMs: 100, rcptReply: (address) => refused.get(address) });
    mailer = createMailer({ ...smtpConfig(smtp.url), smtpMaxConnections: 4 }, silent);
  });
  afterAll(async () => {
    mailer.close();
    await smtp.close();
  });

  it('keeps up to `concurrency` messages in flight, each sent once and marked sent', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 12);
    expect(await drainSlice(deps(mailer, { concurrency: 4 }), ws, 12)).toEqual({
      sent: 12,
      failed: 0,
      more: false,
    });
    expect(smtp.maxConcurrent()).toBeGreaterThan(1);
    expect(smtp.maxConcurrent()).toBeLessThanOrEqual(4);
    const got = smtp.received.filter((r) => made.some((m) => m.email === r.to[0]));
    expect(got.map((r) => r.messageId).sort()).toEqual(
      made.map((m) => invitationMessageId(ctx.config.publicUrl, m.id)).sort(),
    );
    const rows = await outboxRows(ctx.db, ws);
    expect(
      rows.every((r) => r.send_state === 'sent' && r.send_attempts === 1 && r.sending_since === null),
    ).toBe(true);
  });

  it('after a transient refusal takes nothing more: messages in flight are recorded, the rest is handed back', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 10);
    refused.set(made[1]!.email, 451);
    // Lanes take rows 0, 1 and 2; row 1 is refused at RCPT TO while rows 0 and 2 are still in DATA.
    await expect(drainSlice(deps(mailer, { concurrency: 3 }), ws, 10)).rejects.toThrow(/451/);
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.map((r) => [r.send_state, r.send_attempts])).toEqual([
      ['sent', 1],
      ['queued', 1],
      ['sent', 1],
      ...Array.from({ length: 7 }, () => ['queued', 0]),
    ]);
    expect(rows.every((r) => r.sending_since === null)).toBe(true);
    const got = smtp.received.filter((r) => made.some((m) => m.email === r.to[0])).map((r) => r.to[0]);
    expect(got.sort()).toEqual([made[0]!.email, made[2]!.email].sort());
  });

  it('stops taking messages when asked, and hands back what no lane took', async () => {
    const ws = await newWorkspace();
    await makeInvitations(ctx.db, ws, 8);
    let calls = 0;
    const result = await drainSlice(deps(mailer, { concurrency: 3, shouldStop: () => ++calls > 4 }), ws, 8);
    expect(result).toEqual({ sent: 4, failed: 0, more: true });
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.filter((r) => r.send_state === 'sent')).toHaveLength(4);
    expect(rows.filter((r) => r.send_state === 'queued' && r.send_attempts === 0)).toHaveLength(4);
  });
});

describe('drainSlice when the SMTP server is down', () => {
  it('leaves every row queued with no attempt counted, and the drain job throws', async () => {
    const ws = await newWorkspace();
    await makeInvitations(ctx.db, ws, 3);
    const config = smtpConfig(`smtp://127.0.0.1:${await closedPort()}`);
    const mailer = createMailer(config, silent);
    const job = { id: drainJobId(ws), data: { workspaceId: ws } } as Job<{ workspaceId: string }>;
    await withQueues(config.redisUrl, config.queuePrefix, async (queues) => {
      const workerCtx = { config, db: ctx.db, mailer, queues, logger: silent, shuttingDown: () => false };
      await expect(drain(job, workerCtx as unknown as WorkerContext, silent)).rejects.toThrow();
      const rows = await outboxRows(ctx.db, ws);
      expect(rows.map((r) => [r.send_state, r.send_attempts, r.sending_since])).toEqual([
        ['queued', 0, null],
        ['queued', 0, null],
        ['queued', 0, null],
      ]);
      expect(rows[0]!.last_error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    });
    mailer.close();
  });
});

describe('the log transport', () => {
  const logged = async (level: 'info' | 'debug') => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 2);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const mailer = createMailer({ ...ctx.config, smtpUrl: undefined }, logger);
    expect(await drainSlice(deps(mailer), ws, 10)).toMatchObject({ sent: 2 });
    return { made, lines };
  };

  it('logs one line per message at info, without the link and its live token', async () => {
    const { made, lines } = await logged('info');
    const messages = lines.filter((l) => l.msg === 'e-mail (log transport)');
    expect(messages).toHaveLength(2);
    for (const [i, m] of made.entries()) {
      expect(messages[i]).toEqual(
        expect.objectContaining({ to: m.email, messageId: invitationMessageId(ctx.config.publicUrl, m.id) }),
      );
      expect(messages[i]!.subject).toMatch(/You are invited to join/);
    }
    const all = JSON.stringify(lines);
    expect(all).not.toContain('/invitations/accept');
    for (const m of made) expect(all).not.toContain(m.token);
  });

  it('logs the accept link at debug, for a development machine', async () => {
    const { made, lines } = await logged('debug');
    const links = lines.filter((l) => l.msg === 'e-mail link (log transport)');
    expect(links.map((l) => l.link)).toEqual(
      made.map((m) => `${ctx.config.publicUrl}/invitations/accept?token=${m.token}`),
    );
  });
});

describe('enqueueDrain', () => {
  it('reports false instead of throwing when Redis is unreachable', async () => {
    await withQueues('redis://127.0.0.1:1', '{test-down}', async (queues) => {
      expect(await enqueueDrain(queues, silent, '01900000-0000-7000-8000-000000000000')).toBe(false);
    });
  });
});

describe('round-robin across workspaces', () => {
  it("sends a small workspace's invitations before a big one's last ones, at the configured rate", async () => {
    const smtp = await startSmtp();
    const config = testConfig(ctx.databaseName, { SMTP_URL: smtp.url, EMAIL_RATE_PER_SECOND: '100' });
    const big = await newWorkspace();
    const small = await newWorkspace();
    const bigMade = await makeInvitations(ctx.db, big, 200);
    const smallMade = await makeInvitations(ctx.db, small, 3);
    const handle = await startWorkers({ config, db: ctx.db, logger: silent, sweepTasks: [] });
    const started = Date.now();
    try {
      expect(await enqueueDrain(handle.context.queues, silent, big)).toBe(true);
      expect(await enqueueDrain(handle.context.queues, silent, small)).toBe(true);
      await waitFor(() => smtp.received.length >= 203, 20_000);
      const elapsed = Date.now() - started;
      const order = smtp.received.map((r) => r.to[0]!);
      const smallEmails = new Set(smallMade.map((m) => m.email));
      const smallAt = order.flatMap((to, i) => (smallEmails.has(to) ? [i] : []));
      // Slices of K = 100: big's first slice, then small's, then big's second.
      expect(smallAt).toHaveLength(3);
      expect(Math.max(...smallAt)).toBeLessThan(103);
      expect(new Set(order).size).toBe(203);
      expect(order.filter((to) => !smallEmails.has(to)).sort()).toEqual(bigMade.map((m) => m.email).sort());
      // Three jobs, one per K / rate = 1 s.
      expect(elapsed).toBeGreaterThanOrEqual(1_500);
      await waitFor(async () => (await outboxRows(ctx.db, big)).every((r) => r.send_state === 'sent'));
    } finally {
      await handle.close();
      await smtp.close();
    }
  });
});

describe('the outbox sweeper', () => {
  it('requeues rows whose lease expired, and enqueues a drain for each workspace with queued rows', async () => {
    const config = testConfig(ctx.databaseName);
    await withQueues(config.redisUrl, config.queuePrefix, async (queues) => {
      const ws = await newWorkspace();
      const stale = await makeInvitations(ctx.db, ws, 2, {
        sendState: 'sending',
        sendingSince: new Date(Date.now() - 11 * 60_000),
      });
      const leased = await makeInvitations(ctx.db, ws, 1, {
        sendState: 'sending',
        sendingSince: new Date(Date.now() - 10_000),
      });
      const task = outboxSweepTask({ db: ctx.db, queues, logger: silent });
      const enqueued = await task.run();
      expect(enqueued).toBeGreaterThanOrEqual(1);
      const rows = await outboxRows(ctx.db, ws);
      const state = (id: string) => rows.find((r) => r.id === id)!.send_state;
      expect(stale.map((m) => state(m.id))).toEqual(['queued', 'queued']);
      expect(state(leased[0]!.id)).toBe('sending');
      expect(await queues.queue('email').getJobState(drainJobId(ws))).toBe('waiting');
    });
  });

  it('replaces a failed drain job that holds the stable id, which would swallow the add', async () => {
    const config = testConfig(ctx.databaseName);
    await withQueues(config.redisUrl, config.queuePrefix, async (queues) => {
      const ws = await newWorkspace();
      await makeInvitations(ctx.db, ws, 1);
      await queues.enqueue('email', 'drain', { workspaceId: ws }, { jobId: drainJobId(ws), attempts: 1 });
      await failNextJob(config);
      expect(await queues.queue('email').getJobState(drainJobId(ws))).toBe('failed');
      await outboxSweepTask({ db: ctx.db, queues, logger: silent }).run();
      expect(await queues.queue('email').getJobState(drainJobId(ws))).toBe('waiting');
    });
  });
});
