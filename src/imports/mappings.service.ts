import type { Db, DbOrTx } from '../db/index.js';
import type { SavedMapping } from '../api/imports.js';
import { notFound } from '../lib/errors.js';
import { decodeCursor, parseLimit, toPage, type Page } from '../lib/pagination.js';
import { ALIAS_KEYS, FIELDS, headerKey, type Field } from './pipeline/aliases.js';
import {
  resolveHeader,
  type ColumnChoices,
  type ImportWarning,
  type MappingSource,
  type ResolvedHeader,
} from './pipeline/mapping.js';
import * as saved from './mappings.repository.js';
import type { ImportOptions } from './options.js';
import { defaultRoleName } from '../provisioning/settings.repository.js';

/**
 * Resolves header rows against the upload's options and the workspace's saved mappings (only those of
 * the headers in the row are read). Remembers its answers: a workbook's header may be asked twice.
 */
export function headerResolver(
  db: DbOrTx,
  workspaceId: string,
  choices: Omit<ColumnChoices, 'saved'>,
): (cells: string[]) => Promise<ResolvedHeader> {
  const known = new Map<string, ResolvedHeader>();
  return async (cells) => {
    const memo = JSON.stringify(cells);
    const hit = known.get(memo);
    if (hit) return hit;
    const resolved = resolveHeader(cells, {
      ...choices,
      saved: await saved.savedFor(db, workspaceId, cells.map(headerKey)),
    });
    known.set(memo, resolved);
    return resolved;
  };
}

/**
 * `default_role_applied` when no column gives roles: names the role rows get. With `defaultRole` every
 * row gets it; without, the users the file creates get the workspace's default role, and in upsert and
 * sync existing users keep theirs.
 */
export async function defaultRoleWarning(
  db: DbOrTx,
  workspaceId: string,
  options: Pick<ImportOptions, 'defaultRole' | 'mode'>,
  fields: Partial<Record<Field, number>>,
): Promise<ImportWarning[]> {
  if (fields.role !== undefined) return [];
  if (options.defaultRole)
    return [
      {
        code: 'default_role_applied',
        field: 'role',
        message: `No column gives roles: every row gets the role '${options.defaultRole}' (defaultRole). Map a column to role to read roles from the file.`,
      },
    ];
  const role = (await defaultRoleName(db, workspaceId)) ?? 'the default role';
  return [
    {
      code: 'default_role_applied',
      field: 'role',
      message:
        options.mode === 'create'
          ? `No column gives roles: every row gets the workspace's default role '${role}'. Map a column to role to read roles from the file.`
          : `No column gives roles: every user this file creates gets the workspace's default role '${role}', and existing users keep their role. Map a column to role to read roles from the file.`,
    },
  ];
}

/**
 * Saves the explicit choices of an accepted upload (header key → field), the newest winning. A choice
 * the alias table makes anyway is not kept (and clears an older saved choice for that header), so the
 * list holds only what differs from the defaults. A key given for two fields at once is ambiguous and
 * not saved.
 */
export async function rememberChoices(
  tx: DbOrTx,
  workspaceId: string,
  imp: {
    columns: string[];
    mapping: Record<string, number>;
    mapping_sources: Partial<Record<Field, MappingSource>>;
  },
): Promise<void> {
  const byKey = new Map<string, saved.SavedMapping | null>();
  for (const field of FIELDS) {
    const column = imp.mapping[field];
    if (imp.mapping_sources[field] !== 'explicit' || column === undefined) continue;
    const header = imp.columns[column]?.trim();
    const key = header === undefined ? '' : headerKey(header);
    if (key === '') continue;
    const earlier = byKey.get(key);
    byKey.set(key, earlier === undefined ? { header_key: key, header: header!, field } : null);
  }
  const choices = [...byKey.values()].filter((c): c is saved.SavedMapping => c !== null);
  choices.sort((a, b) => (a.header_key < b.header_key ? -1 : 1)); // one lock order for concurrent uploads
  const asAlias = choices.filter((c) => ALIAS_KEYS.get(c.header_key) === c.field);
  await saved.deleteMappings(
    tx,
    workspaceId,
    asAlias.map((c) => c.header_key),
  );
  await saved.upsertMappings(
    tx,
    workspaceId,
    choices.filter((c) => !asAlias.includes(c)),
  );
}

export async function listSavedMappings(
  db: Db,
  workspaceId: string,
  query: { limit?: string; cursor?: string },
): Promise<Page<SavedMapping>> {
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['text']);
  const rows = await saved.listMappings(db, workspaceId, limit + 1, cursor?.[0] as string | undefined);
  return toPage(
    rows,
    limit,
    (r) => [r.header_key],
    (r) => ({ header: r.header, field: r.field }),
  );
}

/** Forgets a saved mapping, named by its header in any spelling that normalises alike. */
export async function deleteSavedMapping(db: Db, workspaceId: string, header: string): Promise<void> {
  const key = headerKey(header);
  if (key === '' || (await saved.deleteMappings(db, workspaceId, [key])) === 0)
    throw notFound(
      'mapping_not_found',
      `No saved mapping for the header '${header}' in this workspace; list them with GET /v1/imports/mappings.`,
    );
}
