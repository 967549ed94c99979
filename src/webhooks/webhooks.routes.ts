import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, PageQuery, errorResponses } from '../api/common.js';
import {
  createEndpoint,
  deleteEndpoint,
  explainBody,
  getEndpoint,
  listEndpoints,
  updateEndpoint,
  type WebhookDeps,
} from './endpoints.service.js';
import {
  CreatedWebhookEndpoint,
  NewWebhookBody,
  WebhookEndpoint,
  WebhookPatchBody,
} from '../api/webhooks.js';

const SIGNING =
  'Deliveries follow Standard Webhooks: webhook-id (the event id, the same on every retry), ' +
  'webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256>) headers; verify them with the ' +
  'standardwebhooks package and the secret given at creation. See docs/api.md, Webhooks.';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = (request: FastifyRequest): WebhookDeps => ({
    db: app.db,
    queues: app.queues,
    log: request.log,
    policy: {
      allowHttp: app.config.webhookAllowHttp,
      allowPrivateNetworks: app.config.webhookAllowPrivateNetworks,
    },
  });
  // A body the schema refuses: the URL's or the event types' own problem first, when there is one.
  const refuseInvalid = (request: FastifyRequest): void => {
    if (!request.validationError) return;
    explainBody(request.body, deps(request).policy);
    throw request.validationError;
  };

  app.get(
    '/v1/webhooks',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'List webhook endpoints',
        description: 'The workspace’s webhook endpoints, oldest first. Secrets are never shown again.',
        querystring: PageQuery,
        response: { 200: Page(WebhookEndpoint), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listEndpoints(app.db, callerOf(request).workspaceId, request.query),
  );

  app.post(
    '/v1/webhooks',
    {
      config: { scope: 'admin' },
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook endpoint',
        description:
          'Adds an endpoint that receives the chosen event types from now on (not past events), and ' +
          'answers with its signing secret: the only time it is shown. The URL must be https to a public ' +
          'address; private, loopback and link-local addresses, and names resolving to them, are refused ' +
          `(400 insecure_url, private_address, host_not_found, invalid_url, unknown_event_type). ${SIGNING}`,
        body: NewWebhookBody,
        response: { 201: CreatedWebhookEndpoint, ...errorResponses(400, 401, 403, 409, 503) },
      },
    },
    async (request, reply) => {
      refuseInvalid(request);
      const caller = callerOf(request);
      const created = await createEndpoint(
        deps(request),
        caller.workspaceId,
        caller.tokenPrefix,
        request.body,
      );
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Get a webhook endpoint',
        description: 'One endpoint, with whether it is enabled and since when it fails, if it does.',
        params: IdParams,
        response: { 200: WebhookEndpoint, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getEndpoint(app.db, callerOf(request).workspaceId, request.params.id),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      config: { scope: 'admin' },
      attachValidation: true,
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint, or disable or enable it',
        description:
          'Changes the URL (checked as at creation), the event types or the description. ' +
          '`enabled: false` pauses deliveries; `enabled: true` resumes them, clears the failure record of an ' +
          'endpoint disabled after 5 days of failures, and sends what waited meanwhile.',
        params: IdParams,
        body: WebhookPatchBody,
        response: { 200: WebhookEndpoint, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      refuseInvalid(request);
      const caller = callerOf(request);
      return updateEndpoint(
        deps(request),
        caller.workspaceId,
        request.params.id,
        caller.tokenPrefix,
        request.body,
      );
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook endpoint',
        description: 'Deletes the endpoint and its delivery log; nothing more is sent to it.',
        params: IdParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await deleteEndpoint(app.db, caller.workspaceId, request.params.id, caller.tokenPrefix);
      return reply.status(204).send();
    },
  );
};

export default routes;
