import type { Db } from '../db/index.js';
import { provision, type ProvisionItem, type ProvisionResult } from '../provisioning/engine.js';
import type { EngineLogger } from '../provisioning/types.js';
import * as imports from './imports.repository.js';
import { revertItems, revertOutcome } from './revert.service.js';
import { pendingRows, writeRowResults, type RowResult } from './rows.repository.js';

type Pending = Awaited<ReturnType<typeof pendingRows>>[number];

/** A staged row as an engine item: empty optional cells leave fields as they are (undefined). */
export function toItem(r: Pending, imp: imports.ImportRow): ProvisionItem {
  const key = String(r.idx);
  if (r.row_number === null) return { key, userId: r.user_id ?? '', op: 'deactivate' };
  return {
    key,
    email: r.email ?? '',
    ...(r.name ? { displayName: r.name } : {}),
    ...(r.given_name ? { givenName: r.given_name } : {}),
    ...(r.family_name ? { familyName: r.family_name } : {}),
    ...((r.role ?? imp.default_role) ? { role: (r.role ?? imp.default_role)! } : {}),
    ...(r.location ? { location: r.location } : {}),
    ...(r.external_id ? { externalId: r.external_id } : {}),
    // A deactivated user in an upsert or sync file comes back; in create mode it is already_exists.
    ...(imp.mode === 'create' ? {} : { active: true }),
  };
}

export class ConcurrentRunError extends Error {
  constructor() {
    super('another run of this import processed the same rows; this batch was rolled back');
  }
}

function tally(rows: Pending[], results: ProvisionResult[]): imports.Counts {
  const c: imports.Counts = {
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    deactivated: 0,
    deleted: 0,
    invited: 0,
    processed: 0,
  };
  results.forEach((r, i) => {
    if (r.status in c) c[r.status as keyof imports.Counts] += 1;
    if (r.invitation === 'queued') c.invited += 1;
    if (rows[i]?.row_number !== null) c.processed += 1;
  });
  return c;
}

/**
 * Runs one batch of pending rows through the engine. Users, invitations, row statuses and counters
 * commit in one transaction. Returns the last idx handled and whether a cancel was asked.
 */
export async function runImportBatch(
  db: Db,
  imp: imports.ImportRow,
  afterIdx: number,
  size: number,
  log: EngineLogger,
  toIdx?: number,
): Promise<{ lastIdx: number; count: number; cancel: boolean; invited: number }> {
  const rows = await pendingRows(db, imp.workspace_id, imp.id, afterIdx, size, toIdx);
  if (rows.length === 0) return { lastIdx: afterIdx, count: 0, cancel: false, invited: 0 };
  const byKey = new Map(rows.map((r) => [String(r.idx), r]));
  let cancel = false;
  let invited = 0;
  const revert = imp.kind === 'revert';
  const items = revert ? await revertItems(db, imp, rows) : rows.map((r) => toItem(r, imp));
  const itemOf = new Map(items.map((it) => [it.key, it]));
  await provision(
    db,
    imp.workspace_id,
    items,
    {
      mode: imp.mode,
      dryRun: imp.dry_run,
      sendInvites: imp.send_invites,
      source: revert ? `revert:${imp.id}` : `csv:${imp.id}`,
      actor: imp.created_by,
      // Every change an import or a revert makes is journaled, set-based in its batch.
    },
    log,
    async (tx, batchItems, engineResults) => {
      const batchRows = batchItems.map((it) => byKey.get(it.key)!);
      const results = revert
        ? engineResults.map((r, i) => ({ ...r, ...revertOutcome(itemOf.get(batchItems[i]!.key)!, r) }))
        : engineResults;
      const written: RowResult[] = results.map((r, i) => ({
        idx: batchRows[i]!.idx,
        // Only a revert deletes users; an import row never ends `deleted`.
        status: r.status === 'deleted' && !revert ? 'failed' : r.status,
        invitation: imp.send_invites ? r.invitation : r.invitation === null ? null : 'not_sent',
        invitation_id: r.invitationId ?? null,
        error_code: r.errorCode ?? null,
        error_message: r.errorMessage ?? null,
        user_id: r.userId ?? batchRows[i]!.user_id ?? null,
        user_version: r.version ?? null,
      }));
      if ((await writeRowResults(tx, imp.workspace_id, imp.id, written)) !== written.length)
        throw new ConcurrentRunError();
      const counts = tally(batchRows, results);
      invited += counts.invited;
      if (await imports.addCounts(tx, imp.workspace_id, imp.id, counts)) cancel = true;
    },
  );
  return { lastIdx: rows[rows.length - 1]!.idx, count: rows.length, cancel, invited };
}
