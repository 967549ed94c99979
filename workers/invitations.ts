import type { JobMap } from '../src/queues/jobs.js';
import { enqueueDrain } from '../src/queues/drain.js';
import { resendPage } from '../src/provisioning/invitations.js';
import { findResend, markResend } from '../src/users/resends.repository.js';
import type { Processor } from './context.js';

/**
 * Bulk re-invitation. State lives in Postgres (invitation_resends): a re-run skips users it already
 * re-invited (their invitation is newer than the request) and continues the counters.
 */
export const resend: Processor<JobMap['invitations']['resend']> = async (job, ctx, log) => {
  const { workspaceId, resendId } = job.data;
  const row = await findResend(ctx.db, workspaceId, resendId);
  if (!row || row.status === 'completed' || row.status === 'failed') return { skipped: true };
  await markResend(ctx.db, workspaceId, resendId, {
    status: 'processing',
    started_at: row.started_at ?? new Date(),
  });
  const criteria = {
    status: row.invitation_status,
    createdBefore: row.created_at,
    olderThan: row.older_than_days === null ? null : new Date(Date.now() - row.older_than_days * 86_400_000),
  };
  let { matched, resent } = row;
  let after: string | null = null;
  try {
    for (;;) {
      const page = await resendPage(ctx.db, workspaceId, criteria, after, ctx.config.batchSize, {
        actor: row.requested_by,
        source: `resend:${resendId}`,
      });
      if (page.ids.length === 0) break;
      matched += page.ids.length;
      resent += page.resent;
      after = page.ids[page.ids.length - 1]!;
      await markResend(ctx.db, workspaceId, resendId, { matched, resent });
      await job.updateProgress({ matched, resent });
      await enqueueDrain(ctx.queues, log, workspaceId);
      if (ctx.shuttingDown()) throw new Error('worker shutting down; the resend continues on the next run');
    }
  } catch (error) {
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && !ctx.shuttingDown()) {
      await markResend(ctx.db, workspaceId, resendId, {
        status: 'failed',
        error: (error as Error).message,
        finished_at: new Date(),
      });
    }
    throw error;
  }
  await markResend(ctx.db, workspaceId, resendId, { status: 'completed', finished_at: new Date() });
  log.info({ resendId, matched, resent }, 'invitation resend done');
  return { matched, resent };
};
