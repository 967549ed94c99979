import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, errorResponses } from '../api/common.js';
import { listDeliveries, retryDelivery, sendTest } from './deliveries.service.js';
import { Delivery, DeliveryParams, DeliveryQuery } from '../api/webhooks.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'An endpoint’s delivery log',
        description:
          'Deliveries to this endpoint, newest first, each with its status, attempts, the last answer’s ' +
          'status code and error, and when it is tried next. A failed answer is retried after about 5 s, ' +
          '30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h and 12 h; then the delivery is failed.',
        params: IdParams,
        querystring: DeliveryQuery,
        response: { 200: Page(Delivery), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      listDeliveries(app.db, callerOf(request).workspaceId, request.params.id, request.query),
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Retry a failed delivery',
        description:
          'Sends a failed delivery once more, now (with the same webhook-id), even while the endpoint is ' +
          'failing or disabled. 409 delivery_not_failed for a delivery that is pending or succeeded.',
        params: DeliveryParams,
        response: { 202: Delivery, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params;
      const deps = { db: app.db, queues: app.queues, log: request.log };
      return reply.status(202).send(await retryDelivery(deps, callerOf(request).workspaceId, id, deliveryId));
    },
  );

  app.post(
    '/v1/webhooks/:id/test',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Send a test delivery',
        description:
          'Queues a signed delivery of event type webhook.test to the endpoint, sent once, now, even while it ' +
          'is disabled. The answer is the pending delivery; its outcome shows in the delivery log.',
        params: IdParams,
        response: { 202: Delivery, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const deps = { db: app.db, queues: app.queues, log: request.log };
      return reply.status(202).send(await sendTest(deps, callerOf(request).workspaceId, request.params.id));
    },
  );
};

export default routes;
