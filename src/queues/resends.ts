import type { EnqueueLogger, Queues } from './producer.js';

export const resendJobId = (resendId: string): string => `resend-${resendId}`;

/** Enqueues a bulk resend; never throws (the row is in Postgres and the sweeper re-enqueues it). */
export function enqueueResend(
  queues: Queues,
  log: EnqueueLogger,
  workspaceId: string,
  resendId: string,
): Promise<boolean> {
  return queues.tryEnqueue(
    log,
    'invitations',
    'resend',
    { workspaceId, resendId },
    { jobId: resendJobId(resendId) },
  );
}
