import { newId } from '../lib/ids.js';
import type { Named } from './lookup.repository.js';
import type { Resolved } from './resolve.js';
import type { ProvisionOptions, ProvisionResult } from './types.js';
import type { ExistingUser, UserState } from './users.repository.js';

/** What the batch knows before it decides: existing users, roles and locations by key, defaults. */
export interface PlanContext {
  opts: ProvisionOptions;
  byId: Map<string, ExistingUser>;
  byEmail: Map<string, ExistingUser>;
  byUserName: Map<string, ExistingUser>;
  byExternalId: Map<string, ExistingUser>;
  roles: Map<string, Named>;
  locations: Map<string, Named>;
  defaultRoleId: string;
  invitationTtlHours: number;
  /** Builds the "does not exist; existing ...: a, b" messages. */
  unknownRole(name: string): string;
  unknownLocation(name: string): string;
}

export type Change = { from: unknown; to: unknown };

/** One decided item: its result and, when it writes, the user's next state. */
export interface Decision {
  result: ProvisionResult;
  kind: 'create' | 'update' | 'delete' | 'none';
  next?: UserState;
  previous?: ExistingUser;
  changes?: Record<string, Change>;
  /** The user's open invitation is revoked (deactivated, deleted, or re-invited). */
  revoke?: boolean;
  /** A new invitation is created for the user. */
  invite?: boolean;
}

const fail = (key: string, code: string, message: string, field?: string, userId?: string): Decision => ({
  kind: 'none',
  result: {
    key,
    status: 'failed',
    errorCode: code,
    errorMessage: message,
    invitation: null,
    ...(field ? { field } : {}),
    ...(userId ? { userId } : {}),
  },
});

/** Keys claimed earlier in the same batch, so two items never take the same e-mail, userName or externalId. */
export class Claims {
  private readonly taken = new Map<string, string>();
  claim(kind: string, value: string | null | undefined, owner: string): string | undefined {
    if (!value) return undefined;
    const k = `${kind}\u0000${value}`;
    const holder = this.taken.get(k);
    if (holder !== undefined && holder !== owner) return holder;
    this.taken.set(k, owner);
    return undefined;
  }
}

const FIELDS: (keyof UserState)[] = [
  'user_name',
  'email',
  'given_name',
  'family_name',
  'display_name',
  'direct_role_id',
  'role_id',
  'location_id',
  'external_id',
  'managed_by',
  'status',
  'emails',
  'attributes',
];

/** JSON with object keys sorted: jsonb hands objects back with its own key order. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function diff(before: UserState, after: UserState): Record<string, Change> {
  const out: Record<string, Change> = {};
  for (const f of FIELDS) {
    if (stable(before[f]) !== stable(after[f])) out[f] = { from: before[f], to: after[f] };
  }
  return out;
}

function lookupRole(ctx: PlanContext, r: Resolved): { id?: string; error?: Decision } {
  if (r.roleKey === undefined) return {};
  if (r.roleKey === null) return { id: ctx.defaultRoleId };
  const role = ctx.roles.get(r.roleKey);
  if (!role) return { error: fail(r.item.key, 'unknown_role', ctx.unknownRole(r.item.role ?? ''), 'role') };
  return { id: role.id };
}

function lookupLocation(ctx: PlanContext, r: Resolved): { id?: string | null; error?: Decision } {
  if (r.locationKey === undefined) return {};
  if (r.locationKey === null) return { id: null };
  const location = ctx.locations.get(r.locationKey);
  if (!location)
    return {
      error: fail(r.item.key, 'unknown_location', ctx.unknownLocation(r.item.location ?? ''), 'location'),
    };
  return { id: location.id };
}

const noEmailToInvite = (key: string, userId?: string): Decision =>
  fail(
    key,
    'missing_email',
    'This workspace sends invitations to users created over SCIM, and an invitation needs an e-mail: send emails, or a userName that is an e-mail address.',
    'email',
    userId,
  );

/** Uniqueness of e-mail, userName and externalId against other users and earlier items of the batch. */
function uniqueness(
  ctx: PlanContext,
  claims: Claims,
  r: Resolved,
  next: UserState,
  selfId: string | undefined,
): Decision | undefined {
  const key = r.item.key;
  const other = (u: ExistingUser | undefined) => u !== undefined && u.id !== selfId;
  const emailKey = next.email_key ?? '';
  if (other(ctx.byEmail.get(emailKey)) || other(ctx.byUserName.get(emailKey))) {
    return fail(key, 'email_taken', `Another user already has the e-mail '${next.email}'.`, 'email');
  }
  if (other(ctx.byUserName.get(next.user_name_key)) || other(ctx.byEmail.get(next.user_name_key))) {
    return fail(
      key,
      'user_name_taken',
      `Another user already has the userName '${next.user_name}'.`,
      'userName',
    );
  }
  if (next.external_id && other(ctx.byExternalId.get(next.external_id))) {
    return fail(
      key,
      'external_id_taken',
      `Another user already has the externalId '${next.external_id}'.`,
      'externalId',
    );
  }
  const owner = selfId ?? `new:${key}`;
  if (claims.claim('email', next.email_key, owner) ?? claims.claim('email', next.user_name_key, owner)) {
    return fail(
      key,
      'duplicate_in_batch',
      `The e-mail '${next.email}' appears earlier in the same batch.`,
      'email',
    );
  }
  if (claims.claim('ext', next.external_id, owner)) {
    return fail(
      key,
      'duplicate_in_batch',
      `The externalId '${next.external_id}' appears earlier in the same batch.`,
      'externalId',
    );
  }
  return undefined;
}

function decideCreate(ctx: PlanContext, claims: Claims, r: Resolved): Decision {
  const { item } = r;
  const { opts } = ctx;
  if (item.userId || (item.op ?? 'upsert') !== 'upsert') {
    return fail(item.key, 'not_found', `No user with id '${item.userId ?? ''}' in this workspace.`);
  }
  if ((!r.email || !r.emailKey) && !opts.emailOptional)
    return fail(item.key, 'missing_email', 'email is required to create a user.', 'email');
  if (!r.displayName && !r.givenName && !r.familyName) {
    return fail(item.key, 'missing_name', 'A name is required: name, or givenName and familyName.', 'name');
  }
  const role = lookupRole(ctx, r);
  if (role.error) return role.error;
  const location = lookupLocation(ctx, r);
  if (location.error) return location.error;
  const invited = opts.sendInvites || !opts.activateUninvited;
  const status = item.active === false ? 'deactivated' : invited ? 'invited' : 'active';
  const roleId = role.id ?? ctx.defaultRoleId;
  const next: UserState = {
    id: newId(),
    user_name: (r.userName ?? r.email)!,
    user_name_key: (r.userNameKey ?? r.emailKey)!,
    email: r.email ?? null,
    email_key: r.emailKey ?? null,
    given_name: r.givenName ?? null,
    family_name: r.familyName ?? null,
    display_name: r.displayName ?? null,
    direct_role_id: roleId,
    role_id: roleId,
    location_id: location.id ?? null,
    external_id: r.externalId ?? null,
    managed_by: item.managedBy ?? null,
    status,
    emails: item.emails ?? [],
    attributes: item.attributes ?? {},
    activated_at: status === 'active' ? new Date() : null,
    version: 1,
  };
  const conflict = uniqueness(ctx, claims, r, next, undefined);
  if (conflict) return conflict;
  const invite = status === 'invited' && opts.sendInvites;
  if (invite && !next.email) return noEmailToInvite(item.key);
  return {
    kind: 'create',
    next,
    invite,
    result: {
      key: item.key,
      status: 'created',
      userId: next.id,
      version: 1,
      invitation: invite ? 'queued' : status === 'invited' ? 'not_sent' : null,
    },
  };
}

function decideExisting(ctx: PlanContext, claims: Claims, r: Resolved, existing: ExistingUser): Decision {
  const { item } = r;
  const { opts } = ctx;
  const op = item.op ?? 'upsert';
  const base = { key: item.key, userId: existing.id };
  if (opts.mode === 'create' && op === 'upsert' && !item.userId) {
    return {
      kind: 'none',
      result: {
        ...base,
        status: 'skipped',
        errorCode: 'already_exists',
        errorMessage: `A user with the e-mail '${existing.email}' already exists.`,
        invitation: null,
      },
    };
  }
  if (claims.claim('user', existing.id, item.key)) {
    return fail(
      item.key,
      'duplicate_in_batch',
      `The user '${existing.email}' appears earlier in the same batch.`,
      'email',
      existing.id,
    );
  }
  if (item.expectedVersion !== undefined && item.expectedVersion !== existing.version) {
    return fail(
      item.key,
      'precondition_failed',
      `The user changed since version ${item.expectedVersion} (now ${existing.version}); read it again.`,
      undefined,
      existing.id,
    );
  }
  if (op === 'delete') {
    return {
      kind: 'delete',
      previous: existing,
      revoke: true,
      result: { ...base, status: 'deleted', version: existing.version + 1, invitation: null },
    };
  }
  const replace = op === 'replace';
  const pick = <T>(value: T | undefined, current: T, cleared: T): T =>
    value !== undefined ? value : replace ? cleared : current;
  const next: UserState = { ...existing };
  delete (next as Partial<ExistingUser>).has_groups;
  if (op !== 'deactivate') {
    // Matched by e-mail (a CSV row): the match ignores case, so the stored spelling stays.
    const matchedByEmail = !item.userId;
    next.email = matchedByEmail ? existing.email : (r.email ?? existing.email);
    next.email_key = matchedByEmail ? existing.email_key : (r.emailKey ?? existing.email_key);
    next.user_name = r.userName ?? existing.user_name;
    next.user_name_key = r.userNameKey ?? existing.user_name_key;
    next.given_name = pick(r.givenName, existing.given_name, null);
    next.family_name = pick(r.familyName, existing.family_name, null);
    next.display_name = pick(r.displayName, existing.display_name, null);
    next.external_id = pick(r.externalId, existing.external_id, null);
    next.emails = pick(item.emails === null ? [] : item.emails, existing.emails, []);
    next.attributes = pick(item.attributes === null ? {} : item.attributes, existing.attributes, {});
    if (item.managedBy !== undefined) next.managed_by = item.managedBy;
    const role = lookupRole(ctx, r);
    if (role.error) return role.error;
    if (role.id !== undefined) {
      if (existing.has_groups && ctx.opts.source !== 'scim') {
        // Groups decide this user's role: REST and CSV may only send the role it already has.
        if (role.id !== existing.role_id) {
          return fail(
            item.key,
            'role_managed_by_identity_provider',
            "This user's role comes from identity-provider groups; change the user's groups in the identity provider instead.",
            'role',
            existing.id,
          );
        }
      } else if (existing.has_groups) {
        // The identity provider may set the direct role; its groups still decide the effective one.
        next.direct_role_id = role.id;
      } else if (role.id !== existing.direct_role_id) {
        next.direct_role_id = role.id;
        next.role_id = role.id;
      }
    }
    const location = lookupLocation(ctx, r);
    if (location.error) return location.error;
    next.location_id = pick(location.id, existing.location_id, null);
    if (!next.display_name && !next.given_name && !next.family_name) {
      return fail(
        item.key,
        'missing_name',
        'A user needs a name: name, or givenName and familyName.',
        'name',
        existing.id,
      );
    }
  }
  let invite = false;
  let revoke = false;
  if (op === 'deactivate' || item.active === false) {
    if (existing.status !== 'deactivated') {
      next.status = 'deactivated';
      revoke = true;
    }
  } else if (item.active === true && existing.status === 'deactivated') {
    next.status = existing.activated_at ? 'active' : 'invited';
    invite = next.status === 'invited' && opts.sendInvites;
    revoke = invite;
    if (invite && !next.email) return noEmailToInvite(item.key, existing.id);
  }
  const conflict = uniqueness(ctx, claims, r, next, existing.id);
  if (conflict) return { ...conflict, result: { ...conflict.result, userId: existing.id } };
  const changes = diff(existing, next);
  if (Object.keys(changes).length === 0) {
    return {
      kind: 'none',
      result: { ...base, status: 'unchanged', version: existing.version, invitation: null },
    };
  }
  next.version = existing.version + 1;
  const status =
    next.status === 'deactivated' && existing.status !== 'deactivated' ? 'deactivated' : 'updated';
  return {
    kind: 'update',
    next,
    previous: existing,
    changes,
    invite,
    revoke,
    result: { ...base, status, version: next.version, invitation: invite ? 'queued' : null },
  };
}

/** Decides one item against the batch's view of the workspace. Pure: no I/O. */
export function decide(ctx: PlanContext, claims: Claims, r: Resolved): Decision {
  const { item } = r;
  const existing = item.userId
    ? ctx.byId.get(item.userId)
    : r.emailKey
      ? ctx.byEmail.get(r.emailKey)
      : undefined;
  if (!existing && item.userId)
    return fail(item.key, 'not_found', `No user with id '${item.userId}' in this workspace.`);
  if (!existing && !r.emailKey && (item.op ?? 'upsert') === 'upsert' && !ctx.opts.emailOptional) {
    return fail(item.key, 'missing_email', 'email is required.', 'email');
  }
  return existing ? decideExisting(ctx, claims, r, existing) : decideCreate(ctx, claims, r);
}
