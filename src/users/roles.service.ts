import type { Db, DbOrTx } from '../db/index.js';
import type { Role } from '../api/roles.js';
import { recomputeRoleMembers } from '../provisioning/groups.js';
import type { RoleRow } from '../db/tables.js';
import { conflict, isUniqueViolation, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page, type PageQuery } from '../lib/pagination.js';
import { journalChange } from './journal.js';
import { checkedName } from './names.js';
import * as repo from './roles.repository.js';
import { findSettings } from '../provisioning/settings.repository.js';

export const toRole = (row: RoleRow, defaultRoleId: string | undefined): Role => ({
  id: row.id,
  name: row.name,
  rank: row.rank,
  isDefault: row.id === defaultRoleId,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const roleExists = (name: string) =>
  conflict('role_exists', `A role named '${name}' already exists in this workspace (names ignore case).`, {
    field: 'name',
  });

export async function listRoles(db: DbOrTx, workspaceId: string, query: PageQuery): Promise<Page<Role>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['int', 'uuid']);
  const after = cursor ? { rank: cursor[0] as number, id: cursor[1] as string } : undefined;
  const [rows, settings] = await Promise.all([
    repo.listRoles(db, workspaceId, limit + 1, after),
    findSettings(db, workspaceId),
  ]);
  return toPage(
    rows,
    limit,
    (r) => [r.rank, r.id],
    (r) => toRole(r, settings?.default_role_id),
  );
}

export async function createRole(
  db: Db,
  workspaceId: string,
  input: { name: string; rank?: number },
  actor = 'api',
): Promise<Role> {
  const { name, key } = checkedName('name', input.name);
  try {
    const row = await db.transaction().execute(async (tx) => {
      const [inserted] = await repo.insertRoles(tx, [
        { workspace_id: workspaceId, id: newId(), name, name_key: key, rank: input.rank ?? 0 },
      ]);
      await journalChange(tx, workspaceId, actor, {
        action: 'group.created',
        targetType: 'group',
        targetId: inserted!.id,
        changes: { name: { from: null, to: inserted!.name }, rank: { from: null, to: inserted!.rank } },
      });
      return inserted!;
    });
    return toRole(row, undefined);
  } catch (error) {
    if (isUniqueViolation(error)) throw roleExists(name);
    throw error;
  }
}

export async function updateRole(
  db: Db,
  workspaceId: string,
  id: string,
  input: { name?: string; rank?: number },
  actor = 'api',
): Promise<Role> {
  const patch: { name?: string; name_key?: string; rank?: number } = {};
  if (input.name !== undefined) {
    const { name, key } = checkedName('name', input.name);
    patch.name = name;
    patch.name_key = key;
  }
  if (input.rank !== undefined) patch.rank = input.rank;
  try {
    const row = await db.transaction().execute(async (tx) => {
      if (Object.keys(patch).length === 0) return repo.findRole(tx, workspaceId, id);
      const before = await repo.findRole(tx, workspaceId, id);
      const updated = await repo.updateRole(tx, workspaceId, id, patch);
      if (updated && before)
        await journalChange(tx, workspaceId, actor, {
          action: 'group.updated',
          targetType: 'group',
          targetId: id,
          changes: {
            name: { from: before.name, to: updated.name },
            rank: { from: before.rank, to: updated.rank },
          },
        });
      // A new rank can change which of their groups decides a member's role.
      if (updated && before && updated.rank !== before.rank)
        await recomputeRoleMembers(tx, workspaceId, id, { actor, source: 'api' });
      return updated;
    });
    if (!row) throw roleNotFound(id);
    const settings = await findSettings(db, workspaceId);
    return toRole(row, settings?.default_role_id);
  } catch (error) {
    if (isUniqueViolation(error)) throw roleExists(patch.name ?? '');
    throw error;
  }
}

export const roleNotFound = (id: string) =>
  notFound('role_not_found', `No role with id '${id}' in this workspace; list roles with GET /v1/roles.`);
