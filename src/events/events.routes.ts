import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { errorResponses } from '../api/common.js';
import { listEvents } from './feed.service.js';
import { EventsPage, EventsQuery } from '../api/events.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/events',
    {
      config: { scope: 'events' },
      schema: {
        tags: ['events'],
        summary: 'Events (changes to users, imports that end) in commit order, from a cursor',
        description:
          'Pages the workspace’s events of the last 30 days in the order their transactions committed. ' +
          'Pass `next` back as `after` to read on: a reader that does so sees every event exactly once, ' +
          'including events of transactions that commit after it read. `data` is the resource as it is ' +
          'when read; the change itself is in GET /v1/audit under the event’s id. 410 `cursor_expired` ' +
          'when events after the cursor have left the 30-day window.',
        querystring: EventsQuery,
        response: { 200: EventsPage, ...errorResponses(400, 401, 403, 410) },
      },
    },
    async (request) => listEvents(app.db, callerOf(request).workspaceId, request.query),
  );
};

export default routes;
