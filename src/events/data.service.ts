import type { DbOrTx } from '../db/index.js';
import * as imports from '../imports/imports.repository.js';
import { toImport } from '../imports/imports.service.js';
import { findUserViewsAnyState } from '../users/users.repository.js';
import { toUser } from '../users/users.service.js';
import type { EventRow } from './events.repository.js';

const isImportEvent = (action: string): boolean => action.startsWith('import.');

/** The resource an event is about: its import (import events), else its user. */
const resourceId = (r: EventRow): string | null => (isImportEvent(r.action) ? r.target_id : r.user_id);

/**
 * Each event's `data`, read now: the user as `GET /v1/users/:id` shows it (a deleted user as its row was
 * last stored, through the same serializer), or the import as `GET /v1/imports/:id` shows it; `{ id }`
 * when the row is gone. One query for the page's users and one for its imports.
 */
export async function eventData(
  db: DbOrTx,
  workspaceId: string,
  rows: EventRow[],
): Promise<Record<string, unknown>[]> {
  const ids = (pick: (r: EventRow) => boolean) => [
    ...new Set(rows.filter(pick).flatMap((r) => resourceId(r) ?? [])),
  ];
  const [users, imps] = await Promise.all([
    findUserViewsAnyState(
      db,
      workspaceId,
      ids((r) => !isImportEvent(r.action)),
    ),
    imports.findImports(
      db,
      workspaceId,
      ids((r) => isImportEvent(r.action)),
    ),
  ]);
  const userById = new Map(users.map((u) => [u.id, u]));
  const importById = new Map(imps.map((i) => [i.id, i]));
  return rows.map((r) => {
    const id = resourceId(r);
    const user = id && !isImportEvent(r.action) ? userById.get(id) : undefined;
    const imp = id && isImportEvent(r.action) ? importById.get(id) : undefined;
    if (user) return { ...toUser(user) };
    if (imp) return { ...toImport(imp) };
    return { id };
  });
}
