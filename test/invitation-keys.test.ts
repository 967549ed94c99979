import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { drainSlice } from '../src/email/drain.service.js';
import { createMailer, type Mailer } from '../src/email/transport.js';
import { invitationToken, tokenHash, useInvitationSecrets } from '../src/provisioning/invitation-tokens.js';
import { call, useTestContext } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { makeInvitations, outboxRows } from './support/invitations.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

const ctx = useTestContext();
const silent = pino({ level: 'silent' });
const OLD = 'the-key-before-the-rotation-0123456789';
const NEW = 'the-key-after-the-rotation-0123456789ab';

describe('the invitation key', () => {
  let smtp: TestSmtp;
  let mailer: Mailer;
  beforeAll(async () => {
    smtp = await startSmtp();
    mailer = createMailer({ ...ctx.config, smtpUrl: smtp.url }, silent);
  });
  afterAll(async () => {
    mailer.close();
    await smtp.close();
  });
  afterEach(() => useInvitationSecrets(ctx.config));

  /** Invitations made while `key` was INVITATION_SECRET. */
  const madeUnder = async (key: string, count = 1) => {
    useInvitationSecrets({ invitationSecret: key });
    const ws = (await makeWorkspace(ctx.db)).workspaceId;
    return { ws, made: await makeInvitations(ctx.db, ws, count) };
  };
  const sentToken = (email: string): string => {
    const mail = smtp.received.find((m) => m.to.includes(email));
    return new URL(mail!.link).searchParams.get('token')!;
  };
  const accept = (token: string) => call(ctx.app, 'POST', '/v1/invitations/accept', { body: { token } });

  it('is not in the database, and nothing of a token is stored: tokens carry their ids and a MAC under INVITATION_SECRET', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_tables
      where schemaname = 'public' and tablename = 'service_secrets'`.execute(ctx.db);
    expect(rows[0]!.n).toBe(0);
    useInvitationSecrets(ctx.config);
    const ws = await makeWorkspace(ctx.db);
    const created = await call(ctx.app, 'POST', '/v1/users', {
      token: ws.token,
      body: { name: 'Key Holder', email: 'key.holder@example.com', role: 'Admin' },
    });
    expect(created.status).toBe(201);
    const inv = await ctx.db
      .selectFrom('invitations')
      .select(['id', 'token_hash'])
      .where('user_id', '=', created.body.id as string)
      .executeTakeFirstOrThrow();
    expect(inv.token_hash).toBeNull();
    const token = invitationToken(Buffer.from(ctx.config.invitationSecret), ws.workspaceId, inv.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect((await accept(token)).status).toBe(200);
  });

  it('after a rotation, accepts links made under the previous key and sends new ones under the new key', async () => {
    const { ws, made } = await madeUnder(OLD, 2);
    useInvitationSecrets({ invitationSecret: NEW, invitationSecretPrevious: OLD });
    expect((await accept(made[0]!.token)).status).toBe(200);
    expect(await drainSlice({ db: ctx.db, mailer, config: ctx.config, logger: silent }, ws, 5)).toMatchObject(
      {
        sent: 1,
      },
    );
    const sent = sentToken(made[1]!.email);
    expect(sent).toBe(invitationToken(Buffer.from(NEW), ws, made[1]!.id));
    expect((await accept(sent)).status).toBe(200);
  });

  it('refuses a link made under a key no longer configured; the e-mail sent now carries one that works', async () => {
    const { ws, made } = await madeUnder(OLD);
    useInvitationSecrets({ invitationSecret: NEW });
    expect((await accept(made[0]!.token)).status).toBe(404);
    await drainSlice({ db: ctx.db, mailer, config: ctx.config, logger: silent }, ws, 5);
    expect((await accept(sentToken(made[0]!.email))).status).toBe(200);
  });

  it('refuses altered tokens: another MAC, another invitation’s ids, a truncated or padded token', async () => {
    const { ws, made } = await madeUnder(NEW, 2);
    const token = made[0]!.token;
    const bytes = Buffer.from(token, 'base64url');
    const flip = (at: number) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 1;
      return copy.toString('base64url');
    };
    const otherIds = Buffer.from(made[1]!.token, 'base64url').subarray(0, 32);
    for (const altered of [
      flip(47), // the MAC
      flip(31), // the invitation id
      Buffer.concat([otherIds, bytes.subarray(32)]).toString('base64url'),
      token.slice(0, 60),
      `${token}AA`,
      `${token}=`,
      invitationToken(Buffer.from(OLD), ws, made[0]!.id),
    ]) {
      expect((await accept(altered)).status, altered).toBe(404);
    }
    const rows = await outboxRows(ctx.db, ws);
    expect(rows.every((r) => r.send_state === 'queued')).toBe(true);
    expect((await accept(made[0]!.token)).status).toBe(200);
  });

  it('keeps a legacy link working (a token from before tokens carried ids), through its stored hash, whatever the keys', async () => {
    const { made } = await madeUnder(NEW);
    const legacy = randomBytes(32).toString('base64url');
    await ctx.db
      .updateTable('invitations')
      .set({ token_hash: tokenHash(legacy) })
      .where('id', '=', made[0]!.id)
      .execute();
    useInvitationSecrets({ invitationSecret: OLD });
    expect((await accept(legacy)).status).toBe(200);
  });
});
