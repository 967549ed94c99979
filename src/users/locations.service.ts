import type { Db, DbOrTx } from '../db/index.js';
import type { Location } from '../api/roles.js';
import { journalChange } from './journal.js';
import type { LocationRow } from '../db/tables.js';
import { conflict, isUniqueViolation, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page, type PageQuery } from '../lib/pagination.js';
import * as repo from './locations.repository.js';
import { checkedName } from './names.js';

export const toLocation = (row: LocationRow): Location => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function listLocations(
  db: DbOrTx,
  workspaceId: string,
  query: PageQuery,
): Promise<Page<Location>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['text', 'uuid']);
  const after = cursor ? { nameKey: cursor[0] as string, id: cursor[1] as string } : undefined;
  const rows = await repo.listLocations(db, workspaceId, limit + 1, after);
  return toPage(rows, limit, (r) => [r.name_key, r.id], toLocation);
}

/** Renames a location; users at it keep it (they refer to it by id). 404 for another workspace's. */
export async function renameLocation(
  db: Db,
  workspaceId: string,
  id: string,
  input: { name: string },
  actor = 'api',
): Promise<Location> {
  const { name, key } = checkedName('name', input.name);
  try {
    const row = await db.transaction().execute(async (tx) => {
      const before = await repo.lockLocationName(tx, workspaceId, id);
      if (before === undefined)
        throw notFound('location_not_found', `No location with id '${id}' in this workspace.`);
      const updated = (await repo.updateLocation(tx, workspaceId, id, { name, name_key: key }))!;
      await journalChange(tx, workspaceId, actor, {
        action: 'location.updated',
        targetType: 'location',
        targetId: id,
        changes: { name: { from: before, to: updated.name } },
      });
      return updated;
    });
    return toLocation(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw locationExists(name);
    throw error;
  }
}

const locationExists = (name: string) =>
  conflict(
    'location_exists',
    `A location named '${name}' already exists in this workspace (names ignore case).`,
    {
      field: 'name',
    },
  );

export async function createLocation(
  db: Db,
  workspaceId: string,
  input: { name: string },
  actor = 'api',
): Promise<Location> {
  const { name, key } = checkedName('name', input.name);
  try {
    const row = await db.transaction().execute(async (tx) => {
      const [inserted] = await repo.insertLocations(tx, [
        { workspace_id: workspaceId, id: newId(), name, name_key: key },
      ]);
      await journalChange(tx, workspaceId, actor, {
        action: 'location.created',
        targetType: 'location',
        targetId: inserted!.id,
        changes: { name: { from: null, to: inserted!.name } },
      });
      return inserted!;
    });
    return toLocation(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw locationExists(name);
    throw error;
  }
}
