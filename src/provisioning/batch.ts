import type { DbOrTx } from '../db/index.js';
import { newId } from '../lib/ids.js';
import { clean } from '../lib/text.js';

const MAX_LOCATION_NAME = 200;
import { recomputeEffectiveRoles, removeFromAllGroups } from './groups.repository.js';
import {
  engineSettings,
  insertMissingLocations,
  locationsByKeys,
  rolesByKeys,
  someNames,
  type Named,
} from './lookup.repository.js';
import { Claims, decide, type Decision, type PlanContext } from './plan.js';
import { isProblem, resolveItem, type Resolved } from './resolve.js';
import type { ProvisionItem, ProvisionOptions, ProvisionResult } from './types.js';
import * as users from './users.repository.js';

const byKey = <T extends { name_key: string }>(rows: T[]) => new Map(rows.map((r) => [r.name_key, r]));
const unique = <T>(values: (T | null | undefined)[]): T[] => [
  ...new Set(values.filter((v): v is T => v !== null && v !== undefined)),
];

function existingNames(names: string[], what: string): string {
  return names.length > 0 ? `existing ${what}: ${names.join(', ')}` : `this workspace has no ${what} yet`;
}

/**
 * The locations items name that the workspace lacks, created with one audit event each (an identity
 * provider is the directory's source of truth, and a location carries no rights). A name another
 * transaction creates meanwhile is read back instead.
 */
async function createMissingLocations(
  db: DbOrTx,
  workspaceId: string,
  resolved: Resolved[],
  known: Map<string, Named>,
  opts: ProvisionOptions,
): Promise<Named[]> {
  const wanted = new Map<string, string>();
  for (const r of resolved) {
    const name = r.item.location ? clean(r.item.location) : '';
    // Longer names are left to fail as unknown_location, as a REST create of them would fail.
    const fits = name !== '' && name.length <= MAX_LOCATION_NAME;
    if (r.locationKey && fits && !known.has(r.locationKey) && !wanted.has(r.locationKey))
      wanted.set(r.locationKey, name);
  }
  if (wanted.size === 0) return [];
  const keys = [...wanted.keys()].sort();
  const created = await insertMissingLocations(
    db,
    workspaceId,
    keys.map((key) => ({ id: newId(), name: wanted.get(key)!, name_key: key })),
  );
  await users.insertAuditEvents(
    db,
    workspaceId,
    opts.actor,
    opts.source,
    created.map((l) => ({
      id: newId(),
      action: 'location.created',
      user_id: null,
      target_type: 'location',
      target_id: l.id,
      changes: { name: { from: null, to: l.name } },
      details: opts.operation ? { operation: opts.operation } : null,
    })),
  );
  const raced = keys.filter((k) => !created.some((c) => c.name_key === k));
  return [...created, ...(await locationsByKeys(db, workspaceId, raced))];
}

/** Loads what decisions need, for the whole batch, in a handful of queries. */
async function loadContext(
  db: DbOrTx,
  workspaceId: string,
  resolved: Resolved[],
  opts: ProvisionOptions,
): Promise<PlanContext> {
  const settings = await engineSettings(db, workspaceId);
  if (!settings) throw new Error(`workspace ${workspaceId} has no settings`);
  const [roles, locations, existing] = await Promise.all([
    rolesByKeys(db, workspaceId, unique(resolved.map((r) => r.roleKey))),
    locationsByKeys(db, workspaceId, unique(resolved.map((r) => r.locationKey))),
    users.lockExisting(
      db,
      workspaceId,
      {
        ids: unique(resolved.map((r) => r.item.userId)),
        emailKeys: unique(resolved.flatMap((r) => [r.emailKey, r.userNameKey])),
        userNameKeys: unique(resolved.flatMap((r) => [r.userNameKey, r.emailKey])),
        externalIds: unique(resolved.map((r) => r.externalId)),
      },
      !opts.dryRun,
    ),
  ]);
  const roleMap = byKey<Named>(roles);
  const locationMap = byKey(locations);
  if (opts.createLocations && !opts.dryRun) {
    for (const created of await createMissingLocations(db, workspaceId, resolved, locationMap, opts))
      locationMap.set(created.name_key, created);
  }
  const [roleNames, locationNames] = await Promise.all([
    resolved.some((r) => r.roleKey && !roleMap.has(r.roleKey)) ? someNames(db, workspaceId, 'roles') : [],
    resolved.some((r) => r.locationKey && !locationMap.has(r.locationKey))
      ? someNames(db, workspaceId, 'locations')
      : [],
  ]);
  return {
    opts,
    byId: new Map(existing.map((u) => [u.id, u])),
    byEmail: new Map(existing.filter((u) => u.email_key).map((u) => [u.email_key!, u])),
    byUserName: new Map(existing.map((u) => [u.user_name_key, u])),
    byExternalId: new Map(existing.filter((u) => u.external_id).map((u) => [u.external_id!, u])),
    roles: roleMap,
    locations: locationMap,
    defaultRoleId: settings.default_role_id,
    unknownRole: (name) =>
      `Role '${name}' does not exist in this workspace; ${existingNames(roleNames, 'roles')}.`,
    unknownLocation: (name) =>
      `Location '${name}' does not exist in this workspace; ${existingNames(locationNames, 'locations')}.`,
    invitationTtlHours: settings.invitation_ttl_hours,
  };
}

/**
 * Runs one batch in the caller's transaction: validates, reads what it needs in a few queries, decides
 * every item in memory, then writes users, invitations (the outbox) and audit events in set-based
 * statements ordered by key. In a dry run it decides the same and writes nothing.
 */
export async function runBatch(
  db: DbOrTx,
  workspaceId: string,
  items: ProvisionItem[],
  opts: ProvisionOptions,
): Promise<ProvisionResult[]> {
  const results: ProvisionResult[] = new Array<ProvisionResult>(items.length);
  const resolved: { index: number; r: Resolved }[] = [];
  items.forEach((item, index) => {
    const r = resolveItem(item);
    if (isProblem(r)) {
      results[index] = {
        key: item.key,
        status: 'failed',
        errorCode: r.code,
        errorMessage: r.message,
        field: r.field,
        invitation: null,
      };
    } else resolved.push({ index, r });
  });
  if (resolved.length === 0) return results;

  const ctx = await loadContext(
    db,
    workspaceId,
    resolved.map((x) => x.r),
    opts,
  );
  const claims = new Claims();
  const decisions: Decision[] = [];
  for (const { index, r } of resolved) {
    const decision = decide(ctx, claims, r);
    results[index] = decision.result;
    decisions.push(decision);
  }
  if (opts.dryRun) {
    for (const d of decisions) if (d.kind === 'create') delete d.result.userId;
    return results;
  }

  const creates = decisions
    .filter((d) => d.kind === 'create')
    .sort((a, b) =>
      cmp(a.next!.email_key ?? a.next!.user_name_key, b.next!.email_key ?? b.next!.user_name_key),
    );
  const updates = decisions.filter((d) => d.kind === 'update').sort((a, b) => cmp(a.next!.id, b.next!.id));
  const deletes = decisions
    .filter((d) => d.kind === 'delete')
    .sort((a, b) => cmp(a.previous!.id, b.previous!.id));

  const inserted = await users.insertUsers(
    db,
    workspaceId,
    creates.map((d) => d.next!),
  );
  for (const d of creates) {
    if (!inserted.has(d.next!.id)) {
      // A concurrent writer took the e-mail or userName between our read and our insert.
      Object.assign(d.result, {
        status: 'failed',
        errorCode: 'conflict',
        errorMessage: 'Another request created this user at the same moment; retry.',
        invitation: null,
      });
      delete d.result.userId;
      d.kind = 'none';
      d.invite = false;
    }
  }
  await users.updateUsers(
    db,
    workspaceId,
    updates.map((d) => d.next!),
  );
  // A membership change that committed while this batch waited for its locks is not in has_groups:
  // the effective role of users whose direct role changed is recomputed from their groups.
  await recomputeEffectiveRoles(
    db,
    workspaceId,
    updates.filter((d) => d.changes?.direct_role_id).map((d) => d.next!.id),
  );
  await users.softDeleteUsers(
    db,
    workspaceId,
    deletes.map((d) => d.previous!.id),
  );
  await removeFromAllGroups(
    db,
    workspaceId,
    deletes.map((d) => d.previous!.id),
  );
  await users.revokeOpenInvitations(
    db,
    workspaceId,
    [...updates, ...deletes].filter((d) => d.revoke).map((d) => (d.next ?? d.previous)!.id),
  );

  const expiresAt = new Date(Date.now() + ctx.invitationTtlHours * 3600_000);
  const invitations = [...creates, ...updates]
    .filter((d) => d.invite && d.kind !== 'none')
    .map((d) => {
      const id = newId();
      // A CSV row records its invitation, so that its report reads whether the e-mail went out.
      d.result.invitationId = id;
      return { id, user_id: d.next!.id };
    });
  await users.insertInvitations(db, workspaceId, invitations, expiresAt, opts.actor);

  // The journal: one event per changed user, with each changed field's from and to, in this transaction.
  await users.insertAuditEvents(
    db,
    workspaceId,
    opts.actor,
    opts.source,
    auditRows(decisions, opts.operation),
  );
  return results;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const ACTIONS: Record<string, string> = {
  created: 'user.created',
  updated: 'user.updated',
  deactivated: 'user.deactivated',
  deleted: 'user.deleted',
};

function auditRows(decisions: Decision[], operation?: string): users.AuditRow[] {
  return decisions
    .filter((d) => d.kind !== 'none')
    .map((d) => {
      const user = (d.next ?? d.previous)!;
      const reactivated = d.changes?.status && d.previous?.status === 'deactivated';
      return {
        id: newId(),
        action: reactivated ? 'user.reactivated' : (ACTIONS[d.result.status] ?? `user.${d.result.status}`),
        user_id: user.id,
        target_type: 'user',
        target_id: user.id,
        changes:
          d.kind === 'create'
            ? { email: { from: null, to: user.email }, status: { from: null, to: user.status } }
            : (d.changes ?? null),
        details:
          d.invite || operation
            ? { ...(operation ? { operation } : {}), ...(d.invite ? { invitation: 'queued' } : {}) }
            : null,
      };
    });
}
