import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainSlice, LEASE_MS, type DrainDeps } from '../src/email/drain.service.js';
import { createMailer, type Mailer } from '../src/email/transport.js';
import { invitationMessageId } from '../src/provisioning/invitation-tokens.js';
import { useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { makeInvitations, outboxRows } from './support/invitations.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

const ctx = useTestContext();
const silent = pino({ level: 'silent' });
const newWorkspace = async () => (await makeWorkspace(ctx.db)).workspaceId;
const ago = (ms: number) => new Date(Date.now() - ms);

describe('leases of the e-mail drain', () => {
  // 300 ms per message: a slice of four holds its rows for over a second.
  let smtp: TestSmtp;
  let mailer: Mailer;
  beforeAll(async () => {
    smtp = await startSmtp({ dataDelayMs: 300 });
    mailer = createMailer({ ...ctx.config, smtpUrl: smtp.url }, silent);
  });
  afterAll(async () => {
    mailer.close();
    await smtp.close();
  });
  const deps = (extra: Partial<DrainDeps> = {}): DrainDeps => ({
    db: ctx.db,
    mailer,
    config: ctx.config,
    logger: silent,
    ...extra,
  });
  const count = (messageId: string) => smtp.received.filter((r) => r.messageId === messageId).length;

  it('takes back the rows of a drain that stopped renewing its lease, first, with the same Message-IDs', async () => {
    const ws = await newWorkspace();
    const dead = await makeInvitations(ctx.db, ws, 2, {
      sendState: 'sending',
      sendingSince: ago(LEASE_MS + 1_000),
    });
    const queued = await makeInvitations(ctx.db, ws, 2);
    expect(await drainSlice(deps(), ws, 2)).toEqual({ sent: 2, failed: 0, more: true });
    for (const m of dead) expect(count(invitationMessageId(ctx.config.publicUrl, m.id))).toBe(1);
    expect(await drainSlice(deps(), ws, 2)).toEqual({ sent: 2, failed: 0, more: false });
    for (const m of queued) expect(count(invitationMessageId(ctx.config.publicUrl, m.id))).toBe(1);
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.every((r) => r.send_state === 'sent' && r.sending_since === null)).toBe(true);
  });

  it('leaves a live lease alone and says when to look again', async () => {
    const ws = await newWorkspace();
    const [held] = await makeInvitations(ctx.db, ws, 1, { sendState: 'sending', sendingSince: ago(10_000) });
    const result = await drainSlice(deps(), ws, 5);
    expect(result).toMatchObject({ sent: 0, failed: 0, more: false });
    expect(result.retryInMs).toBeGreaterThan(LEASE_MS - 12_000);
    expect(result.retryInMs).toBeLessThanOrEqual(LEASE_MS - 10_000);
    expect(count(invitationMessageId(ctx.config.publicUrl, held!.id))).toBe(0);
  });

  it('renews the leases of the messages in hand, so a second drain takes none of them', async () => {
    const ws = await newWorkspace();
    const made = await makeInvitations(ctx.db, ws, 4);
    const short = { leaseMs: 400, leaseRenewMs: 100 };
    const first = drainSlice(deps(short), ws, 4);
    // Well past the 400 ms lease of the rows still waiting their turn.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const second = await drainSlice(deps(short), ws, 4);
    expect(second.sent).toBe(0);
    expect(second.retryInMs).toBeLessThanOrEqual(400);
    expect(await first).toEqual({ sent: 4, failed: 0, more: false });
    for (const m of made) expect(count(invitationMessageId(ctx.config.publicUrl, m.id))).toBe(1);
  });
});
