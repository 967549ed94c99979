import type { Db } from '../db/index.js';
import { AppError, badRequest, notFound } from '../lib/errors.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../lib/pagination.js';
import { matchKey } from '../lib/text.js';
import { provision, type ProvisionItem, type ProvisionResult } from '../provisioning/engine.js';
import * as repo from './users.repository.js';
import type { NewUser, User, UserListQuery, UserPatch } from '../api/users.js';

export const displayName = (v: {
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
}): string => v.display_name ?? [v.given_name, v.family_name].filter(Boolean).join(' ');

export function toUser(v: repo.UserView): User {
  const expired =
    v.invitation_status === 'pending' &&
    v.invitation_expires_at !== null &&
    v.invitation_expires_at.getTime() <= Date.now();
  return {
    id: v.id,
    userName: v.user_name,
    email: v.email,
    name: displayName(v),
    givenName: v.given_name,
    familyName: v.family_name,
    role: { id: v.role_id, name: v.role_name },
    location: v.location_id && v.location_name ? { id: v.location_id, name: v.location_name } : null,
    status: v.status,
    externalId: v.external_id,
    managedBy: v.managed_by,
    invitation:
      v.invitation_status && v.invitation_expires_at
        ? {
            status: expired ? 'expired' : v.invitation_status,
            sentAt: v.invitation_sent_at?.toISOString() ?? null,
            expiresAt: v.invitation_expires_at.toISOString(),
          }
        : null,
    createdAt: v.created_at.toISOString(),
    updatedAt: v.updated_at.toISOString(),
    version: v.version,
  };
}

export interface Actor {
  workspaceId: string;
  actor: string;
}

const userNotFound = (id: string) => notFound('user_not_found', `No user with id '${id}' in this workspace.`);

const STATUS_BY_CODE: Record<string, number> = {
  not_found: 404,
  already_exists: 409,
  email_taken: 409,
  user_name_taken: 409,
  external_id_taken: 409,
  conflict: 409,
  role_managed_by_identity_provider: 409,
  precondition_failed: 412,
  unknown_role: 422,
  unknown_location: 422,
};

/** Turns a failed or skipped engine result into the HTTP error a single write answers with. */
function raise(result: ProvisionResult, userId?: string): never {
  const code = result.errorCode === 'already_exists' ? 'email_taken' : (result.errorCode ?? 'internal_error');
  if (code === 'not_found') throw userNotFound(userId ?? '');
  if (code === 'internal_error') throw new Error(result.errorMessage);
  const status = STATUS_BY_CODE[code] ?? 400;
  throw new AppError(status, code, result.errorMessage ?? code, result.field ? { field: result.field } : {});
}

export async function getUser(db: Db, workspaceId: string, id: string): Promise<User> {
  const view = await repo.findUserView(db, workspaceId, id);
  if (!view) throw userNotFound(id);
  return toUser(view);
}

export async function listUsers(db: Db, workspaceId: string, query: UserListQuery): Promise<Page<User>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['uuid']);
  const rows = await repo.listUserViews(
    db,
    workspaceId,
    {
      status: query.status,
      roleKey: query.role !== undefined ? matchKey(query.role) : undefined,
      locationKey: query.location !== undefined ? matchKey(query.location) : undefined,
      q: query.q?.trim() || undefined,
      afterId: cursor?.[0] as string | undefined,
    },
    limit + 1,
  );
  return toPage(rows, limit, (r) => [r.id], toUser);
}

export async function createUser(
  db: Db,
  actor: Actor,
  input: NewUser,
): Promise<{ user: User; invitation: ProvisionResult['invitation'] }> {
  if (input.name === undefined && input.givenName === undefined && input.familyName === undefined) {
    throw badRequest('missing_name', 'Give name, or givenName and familyName.', { field: 'name' });
  }
  const item: ProvisionItem = {
    key: 'user',
    email: input.email,
    displayName: input.name,
    givenName: input.givenName,
    familyName: input.familyName,
    role: input.role,
    location: input.location,
  };
  const [result] = await provision(db, actor.workspaceId, [item], {
    mode: 'create',
    dryRun: false,
    sendInvites: input.sendInvite ?? true,
    source: 'api',
    actor: actor.actor,
  });
  if (!result || result.status !== 'created' || !result.userId) raise(result!);
  return { user: await getUser(db, actor.workspaceId, result.userId), invitation: result.invitation };
}

export async function updateUser(
  db: Db,
  actor: Actor,
  id: string,
  patch: UserPatch,
  expectedVersion?: number,
): Promise<{ user: User; invitation: ProvisionResult['invitation'] }> {
  const item: ProvisionItem = {
    key: 'user',
    userId: id,
    op: 'patch',
    displayName: patch.name,
    givenName: patch.givenName,
    familyName: patch.familyName,
    role: patch.role,
    location: patch.location,
    ...(patch.status ? { active: patch.status === 'active' } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
  };
  const [result] = await provision(db, actor.workspaceId, [item], {
    mode: 'upsert',
    dryRun: false,
    sendInvites: true,
    source: 'api',
    actor: actor.actor,
  });
  if (!result || result.status === 'failed' || result.status === 'skipped') raise(result!, id);
  return { user: await getUser(db, actor.workspaceId, id), invitation: result.invitation };
}

export async function deleteUser(db: Db, actor: Actor, id: string, expectedVersion?: number): Promise<void> {
  const [result] = await provision(
    db,
    actor.workspaceId,
    [
      {
        key: 'user',
        userId: id,
        op: 'delete',
        ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      },
    ],
    { mode: 'upsert', dryRun: false, sendInvites: false, source: 'api', actor: actor.actor },
  );
  if (!result || result.status !== 'deleted') raise(result!, id);
}

/** If-Match: "<version>" (or W/"<version>") → the version the caller expects. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!match) throw badRequest('invalid_if_match', 'If-Match must be the ETag of the user, e.g. "3".');
  return Number(match[1]);
}
