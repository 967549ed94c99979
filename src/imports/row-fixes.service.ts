import type { Db } from '../db/index.js';
import type { FixableField, RowFixes } from '../db/tables.js';
import { AppError, notFound } from '../lib/errors.js';
import { matchKey } from '../lib/text.js';
import { locationsByKeys, rolesByKeys, someNames } from '../provisioning/lookup.repository.js';
import { cleanName, emailProblem, nameProblem } from '../provisioning/validate.js';
import { importNotFound, toImportRow } from './imports.service.js';
import * as imports from './imports.repository.js';
import { cellValue } from './pipeline/header.js';
import { listRows, lockRowByNumber, writeRowFix } from './rows.repository.js';

/** The corrections a row fix may carry; a missing one is left as it is, `null` or '' clears it. */
export type RowFix = Partial<Record<FixableField, string | null>>;

const FINISHED = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

const COLUMN: Record<FixableField, 'email' | 'name' | 'given_name' | 'family_name' | 'role' | 'location'> = {
  email: 'email',
  name: 'name',
  givenName: 'given_name',
  familyName: 'family_name',
  role: 'role',
  location: 'location',
};

const invalid = (code: string, message: string, details: Record<string, unknown>) =>
  new AppError(400, code, message, details);

/**
 * A correction is read as a file cell would be (formula guard undone, trimmed, names folded to one
 * line) and checked at once, so the person fixing it hears what is wrong now rather than at the retry:
 * an e-mail must be valid, a name at most 200 characters, a role or location one the workspace has
 * (kept in the workspace's spelling).
 */
async function checked(db: Db, workspaceId: string, fix: RowFix): Promise<RowFix> {
  const out: RowFix = {};
  for (const [field, raw] of Object.entries(fix) as [FixableField, string | null | undefined][]) {
    if (raw === undefined) continue;
    const isName = field === 'name' || field === 'givenName' || field === 'familyName';
    let value = raw === null ? '' : isName ? cleanName(cellValue(raw, 'name')) : cellValue(raw);
    if (field === 'email') {
      const problem = emailProblem(value);
      if (problem) throw invalid(problem.code, problem.message, { field });
    } else if (isName) {
      const problem = value ? nameProblem(value, field) : undefined;
      if (problem) throw invalid(problem.code, problem.message, { field });
    } else if (value && field === 'role') {
      const [role] = await rolesByKeys(db, workspaceId, [matchKey(value)]);
      if (!role) {
        const roles = await someNames(db, workspaceId, 'roles', 200);
        throw invalid('unknown_role', `This workspace has no role '${value}'; roles: ${roles.join(', ')}.`, {
          field,
          roles,
        });
      }
      value = role.name; // the workspace's spelling
    } else if (value && field === 'location') {
      const [location] = await locationsByKeys(db, workspaceId, [matchKey(value)]);
      if (!location) {
        const locations = await someNames(db, workspaceId, 'locations', 200);
        throw invalid(
          'unknown_location',
          `This workspace has no location '${value}'; add it in Settings, or use one of: ${locations.join(', ') || '(none yet)'}.`,
          { field, locations },
        );
      }
      value = location.name;
    }
    out[field] = value === '' ? null : value;
  }
  return out;
}

/**
 * Corrects a failed row of a finished import (a dry run included), before `retry` runs it again. The
 * row keeps its status and error until then; `fixes` keeps each field's value as the file gave it.
 */
export async function fixImportRow(
  db: Db,
  workspaceId: string,
  importId: string,
  rowNumber: number,
  fix: RowFix,
) {
  const corrections = await checked(db, workspaceId, fix);
  const idx = await db.transaction().execute(async (tx) => {
    const imp = await imports.lockImport(tx, workspaceId, importId);
    if (!imp) throw importNotFound(importId);
    if (imp.purged_at) {
      throw new AppError(
        410,
        'import_purged',
        'The rows of this import were deleted after the retention period; only its summary is kept.',
      );
    }
    if (imp.kind === 'revert') {
      throw new AppError(
        409,
        'row_not_fixable',
        'This is a revert: its rows undo what an import did and take no corrections; revert again or edit the users.',
      );
    }
    if (!FINISHED.includes(imp.status)) {
      throw new AppError(
        409,
        'import_not_finished',
        `This import is ${imp.status}; its rows can be corrected once it has finished (or after you cancel it).`,
      );
    }
    const row = await lockRowByNumber(tx, workspaceId, importId, rowNumber);
    if (!row) {
      throw notFound(
        'row_not_found',
        `Import ${importId} has no row ${rowNumber}; rows are numbered as in the file.`,
      );
    }
    if (row.status !== 'failed') {
      throw new AppError(
        409,
        'row_not_failed',
        `Row ${rowNumber} is ${row.status}; only failed rows can be corrected.`,
        { row: rowNumber, status: row.status },
      );
    }
    const values = {
      email: row.email,
      email_key: row.email_key,
      name: row.name,
      given_name: row.given_name,
      family_name: row.family_name,
      role: row.role,
      location: row.location,
    };
    const fixes: RowFixes = { ...(row.fixes ?? {}) };
    for (const [field, to] of Object.entries(corrections) as [FixableField, string | null][]) {
      const column = COLUMN[field];
      const earlier = fixes[field];
      const from = earlier ? earlier.from : values[column];
      values[column] = to;
      if (field === 'email') values.email_key = to === null ? null : matchKey(to);
      fixes[field] = { from, to };
    }
    await writeRowFix(tx, workspaceId, importId, row.idx, values, fixes);
    return row.idx;
  });
  const [listed] = await listRows(db, workspaceId, importId, { afterIdx: idx - 1 }, 1);
  return toImportRow(listed!);
}
