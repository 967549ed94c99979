import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import { operatorOnly } from '../auth/plugin.js';
import { AppError } from '../lib/errors.js';
import { QUEUE_NAMES } from '../queues/jobs.js';

export const QUEUES_BOARD_PATH = '/admin/queues';

/**
 * The BullMQ dashboard (bull-board) at /admin/queues, every route of it (UI, API, static files) behind
 * the OPERATOR_TOKEN. The queues are attached on the first authenticated request, once Redis is up, so
 * the API starts without Redis. Errors, 401 included, go to the service's error handler.
 */
export default async function queuesBoard(app: FastifyInstance): Promise<void> {
  operatorOnly(app);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_BOARD_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Loopit queues' } },
  });
  serverAdapter.setErrorHandler((error) => {
    throw error;
  });

  // bull-board's page resolves its assets against <base href="/admin/queues/">: allow a same-origin
  // base here only; everything else of the service's CSP stays.
  app.addHook('onSend', async (_request, reply, payload) => {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') {
      void reply.header('content-security-policy', csp.replace("base-uri 'none'", "base-uri 'self'"));
    }
    return payload;
  });

  let attached = false;
  app.addHook('onRequest', async () => {
    if (attached) return;
    try {
      await app.queues.ready();
    } catch {
      throw new AppError(
        503,
        'redis_unavailable',
        'Redis did not answer; retry shortly.',
        {},
        { 'retry-after': '5' },
      );
    }
    board.setQueues(QUEUE_NAMES.map((name) => new BullMQAdapter(app.queues.queue(name))));
    attached = true;
  });

  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUES_BOARD_PATH });
}
