import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { invitationMessageId } from '../src/provisioning/invitation-tokens.js';
import { useTestContext } from './support/context.js';
import { databaseUrl } from './support/databases.js';
import { makeWorkspace } from './support/factories.js';
import { makeInvitations, outboxRows } from './support/invitations.js';
import { startServer, waitFor } from './support/processes.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

const ctx = useTestContext();
const COUNT = 20;
/**
 * With EMAIL_RATE_PER_SECOND=5 slices hold 5, all in flight at once over SMTP_MAX_CONNECTIONS=5: the
 * 13th message to arrive belongs to the third slice, whose other four may or may not be recorded yet.
 */
const STALL_ON = 13;

describe('a worker killed while a message is in flight', () => {
  const running: ReturnType<typeof startServer>[] = [];
  let smtp: TestSmtp | undefined;
  afterAll(async () => {
    for (const server of running) server.child.kill('SIGKILL');
    await Promise.all(running.map((s) => s.exited));
    await smtp?.close();
  });

  it('re-sends only messages that were in flight, with the same Message-IDs, once a new worker takes over', async () => {
    smtp = await startSmtp({ stallOn: STALL_ON });
    const { workspaceId: ws } = await makeWorkspace(ctx.db);
    const made = await makeInvitations(ctx.db, ws, COUNT);
    const env = {
      ROLE: 'worker',
      DATABASE_URL: databaseUrl(ctx.databaseName),
      QUEUE_PREFIX: `{test-crash-${randomBytes(4).toString('hex')}}`,
      SMTP_URL: smtp.url,
      EMAIL_RATE_PER_SECOND: '5',
      SMTP_MAX_CONNECTIONS: '5',
      PUBLIC_URL: ctx.config.publicUrl,
      LOG_LEVEL: 'warn',
    };

    const first = startServer(env);
    running.push(first);
    await Promise.race([
      smtp.stalled,
      first.exited.then(() => Promise.reject(new Error(`worker exited early:\n${first.output()}`))),
    ]);
    first.child.kill('SIGKILL');
    await first.exited;

    // In flight at the kill: the rows still leased. The stalled message is one; the first two slices are
    // recorded sent, the fourth was never claimed.
    const stalledId = smtp.received.find((r) => r.stalled)!.messageId;
    const messageId = (id: string) => invitationMessageId(ctx.config.publicUrl, id);
    let rows = await outboxRows(ctx.db, ws);
    const leased = new Set(rows.filter((r) => r.send_state === 'sending').map((r) => messageId(r.id)));
    expect(leased.has(stalledId)).toBe(true);
    expect(leased.size).toBeLessThanOrEqual(5);
    expect(rows.filter((r) => r.send_state === 'sent').length + leased.size).toBe(15);
    expect(rows.slice(0, 10).every((r) => r.send_state === 'sent')).toBe(true);
    expect(rows.slice(15).every((r) => r.send_state === 'queued')).toBe(true);

    // As if the lease ran out while no worker was alive.
    await ctx.db
      .updateTable('invitations')
      .set({ sending_since: sql<Date>`now() - interval '11 minutes'` })
      .where('workspace_id', '=', ws)
      .where('send_state', '=', 'sending')
      .execute();

    const second = startServer(env);
    running.push(second);
    await waitFor(
      async () => (await outboxRows(ctx.db, ws)).every((r) => r.send_state === 'sent'),
      45_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${second.output()}`);
    });

    rows = await outboxRows(ctx.db, ws);
    expect(rows.every((r) => r.send_state === 'sent' && r.sending_since === null)).toBe(true);
    const counts = new Map<string, number>();
    for (const r of smtp.received) counts.set(r.messageId, (counts.get(r.messageId) ?? 0) + 1);
    const expected = made.map((m) => invitationMessageId(ctx.config.publicUrl, m.id));
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice.filter(([id, n]) => !leased.has(id) || n > 2)).toEqual([]);
    expect(smtp.received.length).toBeLessThanOrEqual(COUNT + leased.size);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
