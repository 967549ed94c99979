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
/** With EMAIL_RATE_PER_SECOND=5 slices hold 5: message 13 is the third of the third slice. */
const STALL_ON = 13;

describe('a worker killed while a message is in flight', () => {
  const running: ReturnType<typeof startServer>[] = [];
  let smtp: TestSmtp | undefined;
  afterAll(async () => {
    for (const server of running) server.child.kill('SIGKILL');
    await Promise.all(running.map((s) => s.exited));
    await smtp?.close();
  });

  it('re-sends only that message, with the same Message-ID, once a new worker takes over', async () => {
    smtp = await startSmtp({ stallOn: STALL_ON });
    const { workspaceId: ws } = await makeWorkspace(ctx.db);
    const made = await makeInvitations(ctx.db, ws, COUNT);
    const env = {
      ROLE: 'worker',
      DATABASE_URL: databaseUrl(ctx.databaseName),
      QUEUE_PREFIX: `{test-crash-${randomBytes(4).toString('hex')}}`,
      SMTP_URL: smtp.url,
      EMAIL_RATE_PER_SECOND: '5',
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

    const inFlight = made[STALL_ON - 1]!;
    let rows = await outboxRows(ctx.db, ws);
    expect(rows.filter((r) => r.send_state === 'sent')).toHaveLength(STALL_ON - 1);
    expect(rows.find((r) => r.id === inFlight.id)!.send_state).toBe('sending');

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
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.length).toBeLessThanOrEqual(1);
    for (const id of twice) expect(id).toBe(invitationMessageId(ctx.config.publicUrl, inFlight.id));
    expect(smtp.received.length).toBeLessThanOrEqual(COUNT + 1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
