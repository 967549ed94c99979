import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/index.js';
import { newId } from '../../src/lib/ids.js';
import { currentToken } from '../../src/provisioning/invitation-tokens.js';

export interface MadeInvitation {
  id: string;
  userId: string;
  email: string;
  token: string;
}

export interface InvitationOverrides {
  status?: 'pending' | 'accepted' | 'revoked';
  expiresAt?: Date;
  sendState?: 'queued' | 'sending' | 'sent' | 'failed' | 'not_sent';
  sendingSince?: Date | null;
  /** E-mail of the i-th user (0-based); default user-<random>-<i>@example.test */
  email?: (i: number) => string;
  displayName?: string | null;
}

/**
 * Invited users with an open invitation each, inserted directly (as the provisioning engine would,
 * outbox included), with the default role of the workspace. Ids increase in the order given.
 */
export async function makeInvitations(
  db: Db,
  workspaceId: string,
  count: number,
  overrides: InvitationOverrides = {},
): Promise<MadeInvitation[]> {
  const settings = await db
    .selectFrom('workspace_settings')
    .select('default_role_id')
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  const tag = randomBytes(4).toString('hex');
  const made = Array.from({ length: count }, (_, i) => {
    const id = newId();
    const email = overrides.email?.(i) ?? `user-${tag}-${i}@example.test`;
    return { id, userId: newId(), email, token: currentToken(workspaceId, id) };
  });
  if (count === 0) return made;
  await db
    .insertInto('users')
    .values(
      made.map((m, i) => ({
        workspace_id: workspaceId,
        id: m.userId,
        user_name: m.email,
        user_name_key: m.email.toLowerCase(),
        email: m.email,
        email_key: m.email.toLowerCase(),
        given_name: 'Test',
        family_name: `User ${i}`,
        display_name: overrides.displayName === undefined ? `Test User ${i}` : overrides.displayName,
        direct_role_id: settings.default_role_id,
        role_id: settings.default_role_id,
        status: 'invited' as const,
      })),
    )
    .execute();
  await db
    .insertInto('invitations')
    .values(
      made.map((m) => ({
        workspace_id: workspaceId,
        id: m.id,
        user_id: m.userId,
        status: overrides.status ?? 'pending',
        expires_at: overrides.expiresAt ?? new Date(Date.now() + 7 * 24 * 3600_000),
        send_state: overrides.sendState ?? 'queued',
        sending_since: overrides.sendingSince ?? null,
        created_by: 'test',
      })),
    )
    .execute();
  return made;
}

export function outboxRows(db: Db, workspaceId: string) {
  return db
    .selectFrom('invitations')
    .select(['id', 'send_state', 'send_attempts', 'sending_since', 'sent_at', 'last_error'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('id')
    .execute();
}
