import type { EnqueueLogger, Queues } from './producer.js';

/** BullMQ refuses ':' in ids; a new attempt (retry, re-enqueue after a lost job) gets a new id. */
export const importJobId = (importId: string, attempt: number): string => `imp-${importId}-${attempt}`;

/** Enqueues an import's run. Never throws: the import stays queued in Postgres and the sweeper enqueues it. */
export function enqueueImport(
  queues: Queues,
  log: EnqueueLogger,
  workspaceId: string,
  importId: string,
  attempt: number,
): Promise<boolean> {
  return queues.tryEnqueue(
    log,
    'imports',
    'run',
    { workspaceId, importId },
    { jobId: importJobId(importId, attempt) },
  );
}
