import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { callerOf } from '../../auth/plugin.js';
import { ScimError } from '../../lib/errors.js';
import { BULK_LIMITS, getBulk, submitBulk, type BulkDeps } from '../bulk/bulk.service.js';
import { scimErrors } from '../../api/common.js';
import { BULK_RESPONSE_EXAMPLE, BulkRequest, scimBody, scimResponse } from './docs.js';
import { checkedText } from './json-body.js';
import type { ScimCaller } from '../resources/users.service.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';
const BulkResponse = Type.Object(
  { schemas: Type.Array(Type.String()), Operations: Type.Array(Type.Unknown()) },
  { additionalProperties: true, description: 'a BulkResponse (RFC 7644 §3.7.3)' },
);

/**
 * Bulk bodies are read here, counting bytes, rather than by Fastify's parser: past maxPayloadSize the
 * answer is a SCIM 413 that states the limit (RFC 7644 §3.7.4), and the body is never held whole.
 */
function bulkBodyParser(app: FastifyInstance, maxBytes: number): void {
  const json = app.getDefaultJsonParser('error', 'error');
  const tooLarge = () =>
    new ScimError(
      413,
      undefined,
      `The Bulk request is larger than maxPayloadSize, ${maxBytes} bytes; split it into smaller requests.`,
    );
  app.removeContentTypeParser(['application/json', 'application/scim+json']);
  app.addContentTypeParser(['application/json', 'application/scim+json'], (request, payload, done) => {
    if (Number(request.headers['content-length']) > maxBytes) return done(tooLarge(), undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (error: Error | null, body?: unknown) => {
      if (finished) return;
      finished = true;
      done(error, body);
    };
    payload.on('data', (chunk: Buffer | string) => {
      if (finished) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > maxBytes) return finish(tooLarge());
      chunks.push(buffer);
    });
    payload.on('error', (error: Error) => finish(error));
    payload.on('end', () => {
      if (finished) return;
      const text = Buffer.concat(chunks, size).toString('utf8');
      if (text.trim() === '') return finish(null, undefined);
      void json(
        request,
        text,
        checkedText((error, body) => finish(error, body)),
      );
    });
  });
}

/** SCIM Bulk (RFC 7644 §3.7): staged in Postgres, run by a worker; the request waits for the result. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  bulkBodyParser(app, BULK_LIMITS.maxPayloadSize);
  const caller = (request: FastifyRequest): ScimCaller => {
    const c = callerOf(request);
    return { workspaceId: c.workspaceId, actor: c.tokenPrefix, publicUrl: app.config.publicUrl };
  };
  // On shutdown a waiting request answers 503 with the result's Location at once, rather than holding
  // the process up to SCIM_BULK_WAIT_SECONDS (the worker finishes the request either way).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  const deps = (request: FastifyRequest): BulkDeps => ({
    db: app.db,
    queues: app.queues,
    log: request.log,
    waitMs: app.config.scimBulkWaitSeconds * 1000,
    closing: () => closing,
  });
  const config = { scope: 'scim' as const };
  const tags = ['scim'];

  app.post(
    '/scim/v2/Bulk',
    {
      config,
      schema: {
        tags,
        summary: `Run up to ${BULK_LIMITS.maxOperations} operations (503 with Retry-After if they outlast the wait)`,
        description:
          'The request is staged and run by a worker through the provisioning engine; each operation behaves like its single request and answers its own status. bulkId references may point forward. Past SCIM_BULK_WAIT_SECONDS the answer is 503 with Retry-After and Location: read the result at GET /scim/v2/Bulk/{id}; the work still completes.',
        response: { 200: BulkResponse },
        docs: {
          body: scimBody(BulkRequest),
          responses: {
            200: scimResponse('a BulkResponse', { ...BulkResponse, examples: [BULK_RESPONSE_EXAMPLE] }),
            ...scimErrors(400, 413),
          },
        },
      },
    },
    async (request, reply) =>
      reply
        .status(200)
        .type(SCIM_JSON)
        .send(await submitBulk(deps(request), caller(request), request.body)),
  );

  app.get(
    '/scim/v2/Bulk/:id',
    {
      config,
      schema: {
        tags,
        summary: 'The result of a Bulk request that was answered 503 (kept 24 hours)',
        description:
          'The BulkResponse once the worker has run the request; 503 with Retry-After while it still runs, 404 after 24 hours or for another workspace.',
        params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
        response: { 200: BulkResponse },
        docs: {
          responses: {
            200: scimResponse('a BulkResponse', { ...BulkResponse, examples: [BULK_RESPONSE_EXAMPLE] }),
            ...scimErrors(404),
          },
        },
      },
    },
    async (request, reply) =>
      reply
        .status(200)
        .type(SCIM_JSON)
        .send(await getBulk(deps(request), caller(request), request.params.id)),
  );
};

export default routes;
