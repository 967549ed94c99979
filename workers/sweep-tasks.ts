import type { Logger } from 'pino';
import type { Db } from '../src/db/index.js';
import { LEASE_MS } from '../src/email/drain.service.js';
import { requeueStale, workspacesWithQueued } from '../src/email/outbox.repository.js';
import { ensureDrain } from '../src/queues/drain.js';
import { enqueueResend } from '../src/queues/resends.js';
import { enqueueImport, importJobId } from '../src/queues/imports.js';
import { bumpAttempt, purgeExpired, unfinishedImports } from '../src/imports/imports.repository.js';
import { endImport } from '../src/imports/outcome.service.js';
import { unfinishedResends } from '../src/users/resends.repository.js';
import { ensureBulk } from '../src/queues/bulk.js';
import { purgeBulkRequests, unfinishedBulkRequests } from '../src/scim/bulk/bulk.repository.js';
import { purgeAudit } from '../src/users/audit.repository.js';
import type { Queues } from '../src/queues/producer.js';
import { purgeDeliveries } from '../src/webhooks/deliveries.repository.js';
import { refreshAllDue } from '../src/webhooks/endpoint-state.repository.js';
import type { SweepTask } from './sweeper.js';
import { ensureFanouts } from './webhook-wakeups.js';

const PAGE = 500;

export interface SweepDeps {
  db: Db;
  queues: Queues;
  logger: Logger;
}

/**
 * Outbox: rows a dead drain left 'sending' (lease not renewed for LEASE_MS) go back to 'queued', then every workspace with queued
 * invitations gets a drain job (what Redis lost, or a producer could not enqueue). Returns how many
 * workspaces it ensured a drain for.
 */
export function outboxSweepTask({ db, queues, logger }: SweepDeps, leaseMs = LEASE_MS): SweepTask {
  return {
    name: 'outbox',
    async run() {
      const stale = await requeueStale(db, leaseMs);
      if (stale.length > 0)
        logger.warn({ workspaces: stale.length }, 'requeued invitation e-mails of a dead drain');
      let count = 0;
      let after: string | undefined;
      for (;;) {
        const page = await workspacesWithQueued(db, PAGE, after);
        for (const workspaceId of page) {
          await ensureDrain(queues, workspaceId);
          count += 1;
        }
        if (page.length < PAGE) return count;
        after = page[page.length - 1];
      }
    },
  };
}

/** Bulk resends Postgres says are queued or processing: enqueued again (a live job makes the add a no-op). */
export function resendSweepTask({ db, queues, logger }: SweepDeps): SweepTask {
  return {
    name: 'resends',
    async run() {
      const rows = await unfinishedResends(db);
      for (const row of rows) await enqueueResend(queues, logger, row.workspace_id, row.id);
      return rows.length;
    },
  };
}

/** After this many attempts an import that keeps failing is marked failed instead of retried. */
const MAX_IMPORT_ATTEMPTS = 10;

/**
 * Imports Postgres says are queued or processing: one whose job Redis lost is enqueued again; one whose
 * job ended without finishing it (failed out, or a run that stopped) moves to a new attempt and job id.
 */
export function importSweepTask({ db, queues, logger }: SweepDeps): SweepTask {
  return {
    name: 'imports',
    async run() {
      await queues.ready();
      let count = 0;
      for (const imp of await unfinishedImports(db)) {
        const state = await queues.queue('imports').getJobState(importJobId(imp.id, imp.attempt));
        if (
          state === 'waiting' ||
          state === 'active' ||
          state === 'delayed' ||
          state === 'prioritized' ||
          state === 'waiting-children'
        )
          continue;
        let attempt = imp.attempt;
        if (state === 'completed' || state === 'failed') {
          if (attempt >= MAX_IMPORT_ATTEMPTS) {
            await endImport(db, imp.workspace_id, imp.id, 'failed', {
              code: 'internal_error',
              message: 'The import failed repeatedly; retry it, and contact support if it fails again.',
            });
            continue;
          }
          if (!(await bumpAttempt(db, imp.workspace_id, imp.id, attempt))) continue;
          attempt += 1;
        }
        if (await enqueueImport(queues, logger, imp.workspace_id, imp.id, attempt)) count += 1;
      }
      return count;
    },
  };
}

/** IMPORT_RETENTION_DAYS: staged rows of old imports are purged; their summaries stay. */
export function retentionSweepTask({ db }: SweepDeps, days: number): SweepTask {
  return { name: 'retention', run: () => purgeExpired(db, days) };
}

/** AUDIT_RETENTION_DAYS: older audit events are purged, a bounded number of batches per sweep. */
export function auditRetentionSweepTask({ db }: SweepDeps, days: number): SweepTask {
  return { name: 'audit-retention', run: () => purgeAudit(db, days) };
}

/** A finished SCIM Bulk request's outcome stays readable (GET /scim/v2/Bulk/{id}) this long. */
export const BULK_RETENTION_HOURS = 24;

/**
 * SCIM Bulk requests Postgres says are unfinished without a live job (the API could not enqueue, or
 * Redis lost it) are enqueued; finished ones past their retention are deleted.
 */
export function bulkSweepTask({ db, queues }: SweepDeps): SweepTask {
  return {
    name: 'scim-bulk',
    async run() {
      let count = 0;
      for (const row of await unfinishedBulkRequests(db)) {
        if (await ensureBulk(queues, row.workspace_id, row.id)) count += 1;
      }
      await purgeBulkRequests(db, BULK_RETENTION_HOURS);
      return count;
    },
  };
}

/** Deliveries are kept as long as the events they carry. */
export const DELIVERY_RETENTION_DAYS = 30;

/**
 * Webhooks: due times a run that died (or a race with a fan-out) left late are moved earlier, every
 * workspace with an enabled endpoint gets a fan-out (events whose notification nobody heard), and
 * finished deliveries past retention are deleted. Returns how many due times it corrected.
 */
export function webhookSweepTask({ db, queues }: SweepDeps): SweepTask {
  return {
    name: 'webhooks',
    async run() {
      const corrected = await refreshAllDue(db);
      await ensureFanouts(db, queues);
      await purgeDeliveries(db, DELIVERY_RETENTION_DAYS);
      return corrected;
    },
  };
}

/** The sweep tasks a worker runs when none are given. */
export function defaultSweepTasks(
  deps: SweepDeps,
  retentionDays = 30,
  auditRetentionDays = 365,
): SweepTask[] {
  return [
    outboxSweepTask(deps),
    resendSweepTask(deps),
    importSweepTask(deps),
    bulkSweepTask(deps),
    webhookSweepTask(deps),
    retentionSweepTask(deps, retentionDays),
    auditRetentionSweepTask(deps, auditRetentionDays),
  ];
}
