import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { enqueueDrain } from '../queues/drain.js';

/**
 * After a committed write that queued an invitation, wake the workspace's e-mail drain. A Redis
 * failure is logged, not raised: the invitation is in Postgres and the sweeper enqueues it later.
 */
export async function afterWrite(
  app: FastifyInstance,
  log: FastifyBaseLogger,
  workspaceId: string,
  invitation: 'queued' | 'not_sent' | null,
): Promise<void> {
  if (invitation === 'queued') await enqueueDrain(app.queues, log, workspaceId);
}
