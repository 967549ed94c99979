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

  it('is not in the database: the table that held it is gone, and tokens are MACs under INVITATION_SECRET', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_tables
      where schemaname = 'public' and tablename = 'service_secrets'`.execute(ctx.db);
    expect(rows[0]!.n).toBe(0);
    useInvitationSecrets(ctx.config);
    const created = await call(ctx.app, 'POST', '/v1/users', {
      token: (await makeWorkspace(ctx.db)).token,
      body: { name: 'Key Holder', email: 'key.holder@example.com', role: 'Admin' },
    });
    expect(created.status).toBe(201);
    const inv = await ctx.db
      .selectFrom('invitations')
      .select(['id', 'token_hash'])
      .where('user_id', '=', created.body.id as string)
      .executeTakeFirstOrThrow();
    const expected = tokenHash(invitationToken(Buffer.from(ctx.config.invitationSecret), inv.id));
    expect(inv.token_hash.equals(expected)).toBe(true);
  });

  it('after a rotation, sends an invitation made under the previous key with its original link', async () => {
    const { ws, made } = await madeUnder(OLD);
    useInvitationSecrets({ invitationSecret: NEW, invitationSecretPrevious: OLD });
    expect(await drainSlice({ db: ctx.db, mailer, config: ctx.config, logger: silent }, ws, 5)).toMatchObject(
      {
        sent: 1,
      },
    );
    expect(sentToken(made[0]!.email)).toBe(made[0]!.token);
    expect((await accept(made[0]!.token)).status).toBe(200);
  });

  it('gives a new token to an unsent invitation whose key is gone; the old token no longer opens it', async () => {
    const { ws, made } = await madeUnder(OLD);
    useInvitationSecrets({ invitationSecret: NEW });
    expect(await drainSlice({ db: ctx.db, mailer, config: ctx.config, logger: silent }, ws, 5)).toMatchObject(
      {
        sent: 1,
      },
    );
    const token = sentToken(made[0]!.email);
    expect(token).toBe(invitationToken(Buffer.from(NEW), made[0]!.id));
    const [row] = await outboxRows(ctx.db, ws);
    expect(row!.token_hash.equals(tokenHash(token))).toBe(true);
    expect((await accept(made[0]!.token)).status).toBe(404);
    expect((await accept(token)).status).toBe(200);
  });

  it('keeps links already sent working whatever the keys: acceptance needs only the hash', async () => {
    const { made } = await madeUnder(OLD, 2);
    useInvitationSecrets({ invitationSecret: NEW });
    expect((await accept(made[0]!.token)).status).toBe(200);
    useInvitationSecrets({ invitationSecret: NEW, invitationSecretPrevious: OLD });
    expect((await accept(made[1]!.token)).status).toBe(200);
  });
});
