import type { DbOrTx } from '../db/index.js';
import type { LocationRow } from '../db/tables.js';
import { conflict, isUniqueViolation, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { decodeCursor, parseLimit, toPage, type Page, type PageQuery } from '../lib/pagination.js';
import * as repo from './locations.repository.js';
import { checkedName } from './names.js';

export interface Location {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

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
  db: DbOrTx,
  workspaceId: string,
  id: string,
  input: { name: string },
): Promise<Location> {
  const { name, key } = checkedName('name', input.name);
  try {
    const row = await repo.updateLocation(db, workspaceId, id, { name, name_key: key });
    if (!row) throw notFound('location_not_found', `No location with id '${id}' in this workspace.`);
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
  db: DbOrTx,
  workspaceId: string,
  input: { name: string },
): Promise<Location> {
  const { name, key } = checkedName('name', input.name);
  try {
    const [row] = await repo.insertLocations(db, [
      { workspace_id: workspaceId, id: newId(), name, name_key: key },
    ]);
    return toLocation(row!);
  } catch (error) {
    if (isUniqueViolation(error)) throw locationExists(name);
    throw error;
  }
}
