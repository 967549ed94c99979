import { refreshStatistics, type Db } from '../db/index.js';
import { findSettings } from '../provisioning/settings.repository.js';
import * as imports from './imports.repository.js';
import { endImport } from './outcome.service.js';
import { markDuplicates, maxIdx } from './rows.repository.js';
import { stageDeactivations, syncCounts } from './sync.repository.js';

export type StartOutcome =
  | { kind: 'run'; imp: imports.ImportRow }
  | { kind: 'skip'; reason: string }
  | { kind: 'failed'; imp: imports.ImportRow };

const now = () => new Date();

/** The sync safety threshold: more than this many deactivations needs confirmDeactivations. */
export function syncThreshold(base: number, percent: number, minimum: number): number {
  return Math.max(minimum, Math.floor((base * percent) / 100));
}

/**
 * Prepares a run: marks the import processing, marks in-file duplicates, recomputes counters from the
 * rows, and for sync checks the safety threshold (before anything is written) and stages the
 * deactivations as rows. Every step is idempotent, so a re-run after a crash starts from Postgres.
 */
export async function startRun(db: Db, workspaceId: string, importId: string): Promise<StartOutcome> {
  const found = await imports.findImport(db, workspaceId, importId);
  if (!found) return { kind: 'skip', reason: 'import not found' };
  if (found.status !== 'queued' && found.status !== 'processing')
    return { kind: 'skip', reason: `import is ${found.status}` };
  if (found.cancel_requested) {
    await imports.setImport(db, workspaceId, importId, { status: 'cancelled', finished_at: now() });
    return { kind: 'skip', reason: 'cancelled before it started' };
  }
  await imports.setImport(db, workspaceId, importId, {
    status: 'processing',
    started_at: found.started_at ?? now(),
  });
  await markDuplicates(db, workspaceId, importId);
  let imp = await imports.recount(db, workspaceId, importId);
  if (found.mode === 'sync') {
    const settings = await findSettings(db, workspaceId);
    if (!settings) throw new Error(`workspace ${workspaceId} has no settings`);
    const { absent, base } = await syncCounts(db, workspaceId, importId);
    const threshold = syncThreshold(base, settings.sync_threshold_percent, settings.sync_threshold_min);
    if (absent > threshold && found.confirm_deactivations !== absent) {
      const error = {
        code: 'sync_threshold_exceeded',
        message:
          `This sync would deactivate ${absent} users, more than this workspace's safety threshold of ${threshold}. ` +
          `If that is intended, upload again with confirmDeactivations=${absent}.`,
      };
      if (!found.dry_run) {
        // The status and its journal entry (import.failed) commit together; an import another run
        // ended meanwhile is read as it is.
        const ended = await endImport(db, workspaceId, importId, 'failed', error);
        return { kind: 'failed', imp: ended ?? (await imports.findImport(db, workspaceId, importId))! };
      }
      // A dry run reports the number and the warning, and still shows who would be deactivated.
      imp = await imports.setImportError(db, workspaceId, importId, 'processing', error);
    }
    if (absent > 0)
      await stageDeactivations(db, workspaceId, importId, await maxIdx(db, workspaceId, importId));
  }
  // Staging the deactivations writes rows only: the import row is as recount or the error left it.
  return { kind: 'run', imp };
}

/** Imports that create or update at least this many users refresh the planner's statistics. */
export const ANALYZE_AFTER_ROWS = 10_000;

/** Ends a run: completed (skips alone are fine), completed_with_errors when a row failed, or cancelled. */
export async function finishRun(
  db: Db,
  workspaceId: string,
  importId: string,
  cancelled: boolean,
): Promise<imports.ImportRow> {
  const imp = await imports.recount(db, workspaceId, importId);
  const status = cancelled ? 'cancelled' : imp.failed > 0 ? 'completed_with_errors' : 'completed';
  // After a large import the planner's picture of users and invitations is stale: refresh it before the
  // import reads as done, rather than leave the next SCIM reads to plans made for an empty workspace.
  if (!imp.dry_run && imp.created + imp.updated >= ANALYZE_AFTER_ROWS) {
    await refreshStatistics(db, ['users', 'invitations']);
  }
  // The status and its journal entry (import.completed, import.reverted) commit together.
  const ended = await endImport(db, workspaceId, importId, status);
  return ended ?? (await imports.findImport(db, workspaceId, importId))!;
}

/** The import a batch job belongs to, when it is still processing; cancel shows as `cancel: true`. */
export async function runnableImport(
  db: Db,
  workspaceId: string,
  importId: string,
): Promise<{ imp: imports.ImportRow; cancel: boolean } | undefined> {
  const imp = await imports.findImport(db, workspaceId, importId);
  if (!imp || imp.status !== 'processing') return undefined;
  return { imp, cancel: imp.cancel_requested };
}

export { batchRanges, countPending } from './rows.repository.js';
