import type { Db } from '../../db/index.js';
import { ScimError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import {
  provision,
  type ProvisionItem,
  type ProvisionOptions,
  type ProvisionResult,
} from '../../provisioning/engine.js';
import { versionOf as ifMatchVersion } from './etag.js';
import { fromScimUser, toScimUser, type ScimUserJson } from './user-mapper.js';
import { applyPatch } from '../patch/user-patch.js';
import { userFilterSql, parseUserFilter } from '../filter/sql.js';
import { pageOf, pagedList, type ListParams } from './lists.js';
import { LOOPIT_USER } from '../schema/urns.js';
import { project } from './projection.js';
import { userOrderSql } from '../filter/sort.js';
import * as repo from './users.repository.js';

export interface ScimCaller {
  workspaceId: string;
  actor: string;
  publicUrl: string;
  /** The request, such as `PATCH /scim/v2/Users/:id`: kept in the audit events of its writes. */
  operation?: string;
}

/** The SCIM caller of a request: its workspace, token prefix and operation. */
export function scimCaller(
  request: { method: string; routeOptions: { url?: string } },
  caller: { workspaceId: string; tokenPrefix: string },
  publicUrl: string,
): ScimCaller {
  return {
    workspaceId: caller.workspaceId,
    actor: caller.tokenPrefix,
    publicUrl,
    operation: `${request.method} ${request.routeOptions.url ?? ''}`,
  };
}

const notFound = (id: string) => new ScimError(404, undefined, `User ${id} not found.`);

const SCIM_ERRORS: Record<string, [number, string | undefined]> = {
  already_exists: [409, 'uniqueness'],
  email_taken: [409, 'uniqueness'],
  user_name_taken: [409, 'uniqueness'],
  external_id_taken: [409, 'uniqueness'],
  conflict: [409, 'uniqueness'],
  duplicate_in_batch: [409, 'uniqueness'],
  precondition_failed: [412, undefined],
  role_managed_by_identity_provider: [400, 'mutability'],
};

/** The SCIM error for an engine result that failed: the same mapping for single writes and Bulk. */
export function scimErrorOf(result: ProvisionResult | undefined, id?: string): Error {
  const code = result?.errorCode ?? 'internal_error';
  if (code === 'not_found') return notFound(id ?? '');
  if (code === 'internal_error') return new Error(result?.errorMessage ?? 'provisioning failed');
  const [status, scimType] = SCIM_ERRORS[code] ?? [400, 'invalidValue'];
  const detail =
    code === 'already_exists'
      ? 'A user with this userName or e-mail already exists (compared ignoring case).'
      : (result?.errorMessage ?? code);
  return new ScimError(status, scimType, detail);
}

function raise(result: ProvisionResult | undefined, id?: string): never {
  throw scimErrorOf(result, id);
}

/** Engine options of every SCIM write. */
export function scimWriteOptions(
  actor: string,
  settings: repo.ScimWriteSettings,
  mode: 'create' | 'upsert',
  source = 'scim',
): ProvisionOptions {
  return {
    mode,
    dryRun: false,
    sendInvites: settings.sendInvites,
    activateUninvited: true,
    emailOptional: true,
    createLocations: settings.createsLocations,
    source,
    actor,
  };
}

/**
 * Runs one item through the engine. The user it wrote is read in the same transaction, so the answer is
 * the state this request produced, never one a concurrent write made just after it.
 */
async function write(
  db: Db,
  caller: ScimCaller,
  item: ProvisionItem,
  mode: 'create' | 'upsert',
): Promise<{ result: ProvisionResult; written?: ScimUserJson }> {
  const settings = await repo.scimWriteSettings(db, caller.workspaceId);
  let written: ScimUserJson | undefined;
  const [result] = await provision(
    db,
    caller.workspaceId,
    [item],
    {
      ...scimWriteOptions(caller.actor, settings, mode),
      ...(caller.operation ? { operation: caller.operation } : {}),
    },
    undefined,
    async (tx, _batch, [done]) => {
      if (!done?.userId || done.status === 'failed' || done.status === 'skipped' || done.status === 'deleted')
        return;
      const row = await repo.findScimUser(tx, caller.workspaceId, done.userId);
      if (row) written = toScimUser(row, caller.publicUrl);
    },
  );
  return { result: result!, ...(written ? { written } : {}) };
}

/** The answer of a write: the user as that write left it. */
function answerOf(outcome: { result: ProvisionResult; written?: ScimUserJson }, id?: string): ScimUserJson {
  if (!outcome.written) raise(outcome.result, id);
  return outcome.written;
}

export async function getScimUser(db: Db, caller: ScimCaller, id: string): Promise<ScimUserJson> {
  const row = isUuid(id) ? await repo.findScimUser(db, caller.workspaceId, id) : undefined;
  if (!row) throw notFound(id);
  return toScimUser(row, caller.publicUrl);
}

export { MAX_RESULTS, type ListParams } from './lists.js';

export async function listScimUsers(db: Db, caller: ScimCaller, params: ListParams) {
  const { startIndex, count } = pageOf(params);
  const filter = params.filter ? userFilterSql(parseUserFilter(params.filter), { alias: 'u' }) : undefined;
  const order = userOrderSql(params.sortBy, params.sortOrder);
  const { rows, total } = await repo.listScimUsers(
    db,
    caller.workspaceId,
    filter,
    startIndex - 1,
    count,
    order,
  );
  return pagedList(
    total,
    startIndex,
    rows.map((r) => project(toScimUser(r, caller.publicUrl), params.attributes, params.excludedAttributes)),
  );
}

export async function createScimUser(db: Db, caller: ScimCaller, body: unknown): Promise<ScimUserJson> {
  const outcome = await write(db, caller, fromScimUser(body, 'scim'), 'create');
  if (outcome.result.status !== 'created') raise(outcome.result);
  return answerOf(outcome);
}

/** If-Match: the version it names; '*' or no header: none; anything else can never match (412). */
export const versionOf = (ifMatch: string | undefined): number | undefined => ifMatchVersion(ifMatch, 'user');

/** Writes a replace of the user, honouring If-Match, and answers the resource as it now stands. */
async function writeReplace(
  db: Db,
  caller: ScimCaller,
  id: string,
  item: ProvisionItem,
  ifMatch?: string,
): Promise<ScimUserJson> {
  const expected = versionOf(ifMatch);
  const outcome = await write(
    db,
    caller,
    { ...item, ...(expected !== undefined ? { expectedVersion: expected } : {}) },
    'upsert',
  );
  return answerOf(outcome, id);
}

/** PUT: a true replace; attributes not sent are cleared, except the role, which is kept. */
export async function replaceScimUser(
  db: Db,
  caller: ScimCaller,
  id: string,
  body: unknown,
  ifMatch?: string,
): Promise<ScimUserJson> {
  await getScimUser(db, caller, id);
  return writeReplace(db, caller, id, replaceItem(body, id), ifMatch);
}

/** The engine item of a PUT. */
export function replaceItem(body: unknown, id: string, key = 'scim'): ProvisionItem {
  const item: ProvisionItem = { ...fromScimUser(body, key), userId: id, op: 'replace' };
  if (item.location === undefined) item.location = null;
  return item;
}

const PATCH_ATTEMPTS = 20;

/**
 * PATCH: applied to the current resource, then written as a replace that holds only if the user is
 * still at the version it was applied to. Without If-Match, a concurrent write in between makes it read
 * and apply again, so concurrent PATCHes of one user never lose each other's changes; with If-Match, a
 * version that moved is 412 as the client asked.
 */
export async function patchScimUser(
  db: Db,
  caller: ScimCaller,
  id: string,
  body: unknown,
  ifMatch?: string,
): Promise<ScimUserJson> {
  const asked = versionOf(ifMatch);
  for (let attempt = 1; ; attempt += 1) {
    const current = await getScimUser(db, caller, id);
    const seen = Number(/\d+/.exec((current.meta as { version: string }).version)?.[0]);
    const item = { ...patchItem(current, body, id), expectedVersion: asked ?? seen };
    const outcome = await write(db, caller, item, 'upsert');
    const raced = outcome.result.errorCode === 'precondition_failed' && asked === undefined;
    if (!raced) return answerOf(outcome, id);
    if (attempt >= PATCH_ATTEMPTS) {
      throw new ScimError(409, undefined, `User ${id} kept changing during the PATCH; send it again.`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
  }
}

/** The engine item of a PATCH: applied to the current resource (atomically), written as a replace. */
export function patchItem(current: ScimUserJson, body: unknown, id: string, key = 'scim'): ProvisionItem {
  const next = applyPatch(current, body);
  const item: ProvisionItem = { ...fromScimUser(next, key, false), userId: id, op: 'replace' };
  // The resource shows the effective role, in the extension and in `roles`; only a change made by this
  // PATCH is a request to change it, and the extension wins when both changed.
  const before = (current[LOOPIT_USER] ?? {}) as { role?: string; location?: string };
  const after = (next[LOOPIT_USER] ?? {}) as { role?: string; location?: string };
  const fromRoles = roleChange(current.roles, next.roles);
  if (after.role !== before.role) item.role = after.role ?? null;
  else if (fromRoles !== undefined) item.role = fromRoles;
  else delete item.role;
  // A replace clears what it is not given, so an untouched location is sent as it is.
  item.location = after.location ?? null;
  return item;
}

const roleValue = (element: unknown): string | undefined => {
  const value = (element as { value?: unknown } | null)?.value;
  return typeof value === 'string' ? value : undefined;
};

/**
 * The role a PATCH of `roles` asks for: undefined when `roles` did not change. A user has one role, so
 * the element this PATCH added or marked primary wins (the primary one, else the last); removing every
 * role gives the workspace's default role (null).
 */
function roleChange(beforeRaw: unknown, afterRaw: unknown): string | null | undefined {
  const before = Array.isArray(beforeRaw) ? beforeRaw : [];
  const after = Array.isArray(afterRaw) ? afterRaw : [];
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  const seen = new Set(before.map((e) => JSON.stringify(e)));
  const changed = after.filter((e) => !seen.has(JSON.stringify(e)) && roleValue(e) !== undefined);
  const primary = (list: unknown[]) =>
    list.find((e) => (e as { primary?: unknown }).primary === true) ?? list[list.length - 1];
  if (changed.length > 0) return roleValue(primary(changed)) ?? null;
  const kept = after.filter((e) => roleValue(e) !== undefined);
  return kept.length > 0 ? (roleValue(primary(kept)) ?? null) : null;
}

export async function deleteScimUser(
  db: Db,
  caller: ScimCaller,
  id: string,
  ifMatch?: string,
): Promise<void> {
  await getScimUser(db, caller, id);
  const expected = versionOf(ifMatch);
  const { result } = await write(
    db,
    caller,
    {
      key: 'scim',
      userId: id,
      op: 'delete',
      ...(expected !== undefined ? { expectedVersion: expected } : {}),
    },
    'upsert',
  );
  if (result.status !== 'deleted') raise(result, id);
}
