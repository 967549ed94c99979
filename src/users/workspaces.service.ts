import type { Db, DbOrTx } from '../db/index.js';
import type { Scope } from '../db/tables.js';
import { createToken } from '../auth/tokens.service.js';
import { SCOPES } from '../auth/tokens.js';
import { badRequest, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { checkedName } from './names.js';
import { insertLocations } from './locations.repository.js';
import { insertRoles } from './roles.repository.js';
import { findWorkspace, insertSettings, insertWorkspace } from './workspaces.repository.js';

export interface NewWorkspace {
  name: string;
  roles: string[];
  locations: string[];
  defaultRole?: string | undefined;
}

export const FALLBACK_ROLE = 'Member';
export const RANK_STEP = 10;

/**
 * Creates a workspace with its roles, locations, settings and a token with every scope, in one
 * transaction. Roles rank in the order given, the first highest; the default role is the first unless
 * named. A workspace created without roles gets one, 'Member', as its default.
 */
export async function createWorkspace(
  db: Db,
  input: NewWorkspace,
): Promise<{ workspaceId: string; token: string; tokenPrefix: string; scopes: Scope[] }> {
  const { name } = checkedName('workspace name', input.name);
  const roleNames = input.roles.length > 0 ? input.roles : [FALLBACK_ROLE];
  const roles = roleNames.map((r) => checkedName('role', r));
  const locations = input.locations.map((l) => checkedName('location', l));
  const duplicate = (list: { key: string; name: string }[]) =>
    list.find((x, i) => list.findIndex((y) => y.key === x.key) !== i);
  const dupRole = duplicate(roles);
  if (dupRole)
    throw badRequest('duplicate_role', `Role '${dupRole.name}' is given twice (names ignore case).`);
  const dupLocation = duplicate(locations);
  if (dupLocation)
    throw badRequest(
      'duplicate_location',
      `Location '${dupLocation.name}' is given twice (names ignore case).`,
    );
  const defaultKey =
    input.defaultRole === undefined ? roles[0]!.key : checkedName('default role', input.defaultRole).key;
  const workspaceId = newId();
  const roleRows = roles.map((r, i) => ({
    workspace_id: workspaceId,
    id: newId(),
    name: r.name,
    name_key: r.key,
    rank: (roles.length - i) * RANK_STEP,
  }));
  const defaultRole = roleRows.find((r) => r.name_key === defaultKey);
  if (!defaultRole) {
    throw badRequest(
      'unknown_default_role',
      `Default role '${input.defaultRole}' is not among the roles given (${roles.map((r) => r.name).join(', ')}).`,
    );
  }
  return db.transaction().execute(async (tx) => {
    await insertWorkspace(tx, { id: workspaceId, name });
    await insertRoles(tx, roleRows);
    await insertLocations(
      tx,
      locations.map((l) => ({ workspace_id: workspaceId, id: newId(), name: l.name, name_key: l.key })),
    );
    await insertSettings(tx, { workspace_id: workspaceId, default_role_id: defaultRole.id });
    const token = await createToken(tx, workspaceId, [...SCOPES], 'workspace create');
    return { workspaceId, token: token.token, tokenPrefix: token.prefix, scopes: token.scopes };
  });
}

/** The workspace a token belongs to, with the token's prefix and scopes. */
export async function currentWorkspace(
  db: DbOrTx,
  caller: { workspaceId: string; tokenPrefix: string; scopes: Scope[] },
): Promise<{ id: string; name: string; tokenPrefix: string; scopes: Scope[] }> {
  const row = await findWorkspace(db, caller.workspaceId);
  if (!row) throw notFound('workspace_not_found', 'The workspace of this token no longer exists.');
  return { id: row.id, name: row.name, tokenPrefix: caller.tokenPrefix, scopes: caller.scopes };
}
