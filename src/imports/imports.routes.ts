import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, PageQuery, errorResponses } from '../api/common.js';
import { enqueueImport } from '../queues/imports.js';
import { claimIdempotencyKey, releaseIdempotencyKey, type KeyRow } from './idempotency.service.js';
import {
  applyDryRun,
  cancelImport,
  getImport,
  listImportRows,
  listImports,
  retryImport,
  toImport,
} from './imports.service.js';
import { deleteSavedMapping, listSavedMappings } from './mappings.service.js';
import { templateCsv } from './pipeline/report-writer.js';
import { importReport } from './report.service.js';
import { Import, ImportRow, MappingParams, RowsQuery, SavedMapping, UploadQuery } from '../api/imports.js';
import { acceptUpload } from './upload.service.js';
import { discard } from './spool.js';
import { readUpload } from './upload-request.js';
import { takeUploadSlot } from './upload-slots.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(multipart, {
    limits: { fileSize: app.config.importMaxBytes },
    throwFileSizeLimit: true,
  });
  // Any other body reaches the upload as a raw stream: the bytes, not the declared type, decide.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.get(
    '/v1/imports/template.csv',
    {
      config: { scope: 'imports' },
      schema: { tags: ['imports'], summary: 'A CSV template: the header and two example rows' },
    },
    async (_request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="loopit-users-template.csv"')
        .send(templateCsv()),
  );

  app.post(
    '/v1/imports',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary:
          'Upload a CSV or Excel workbook (multipart field "file", or the raw body); 202 with the queued import',
        querystring: UploadQuery,
        response: { 200: Import, 202: Import, ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      // Uploads hold a pool connection while they stage: a workspace gets a few at a time across every
      // API process (429 past them).
      const release = await takeUploadSlot(
        app.db,
        caller.workspaceId,
        app.config.maxConcurrentUploads,
        request.log,
      );
      try {
        const rawKey = request.headers['idempotency-key'];
        const key = typeof rawKey === 'string' ? rawKey : undefined;
        const holder: KeyRow | undefined =
          rawKey === undefined ? undefined : await claimIdempotencyKey(app.db, caller.workspaceId, rawKey);
        try {
          const upload = await readUpload(request, app.config.importMaxBytes);
          try {
            const { replay, imp } = await acceptUpload(app.db, app.config, {
              workspaceId: caller.workspaceId,
              actor: caller.tokenPrefix,
              ...upload,
              ...(key ? { idempotencyKey: key } : {}),
              ...(holder ? { holder } : {}),
            });
            // Freed before the answer, so that a client's next upload never finds its last one counted.
            await release();
            if (replay) return reply.status(200).send(toImport(imp));
            await enqueueImport(app.queues, request.log, caller.workspaceId, imp.id, imp.attempt);
            return reply.status(202).header('location', `/v1/imports/${imp.id}`).send(toImport(imp));
          } finally {
            await discard(upload.spooled.path);
          }
        } catch (error) {
          if (key && !holder) await releaseIdempotencyKey(app.db, caller.workspaceId, key);
          throw error;
        }
      } finally {
        await release();
      }
    },
  );

  app.get(
    '/v1/imports/mappings',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary: 'The saved mappings of the workspace: header → field, applied to later uploads',
        querystring: PageQuery,
        response: { 200: Page(SavedMapping), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listSavedMappings(app.db, callerOf(request).workspaceId, request.query),
  );

  app.delete(
    '/v1/imports/mappings/:header',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary: 'Forget a saved mapping; later files with that header fall back to the aliases',
        params: MappingParams,
        response: { 204: { type: 'null', description: 'forgotten' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteSavedMapping(app.db, callerOf(request).workspaceId, request.params.header);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/imports',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary: 'Imports, newest first',
        querystring: PageQuery,
        response: { 200: Page(Import), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listImports(app.db, callerOf(request).workspaceId, request.query),
  );

  app.get(
    '/v1/imports/:id',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary: 'An import with its counters (poll it for progress)',
        params: IdParams,
        response: { 200: Import, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getImport(app.db, callerOf(request).workspaceId, request.params.id),
  );

  app.get(
    '/v1/imports/:id/rows',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary: 'The per-row report, filtered by status',
        params: IdParams,
        querystring: RowsQuery,
        response: { 200: Page(ImportRow), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      listImportRows(app.db, callerOf(request).workspaceId, request.params.id, request.query),
  );

  app.get(
    '/v1/imports/:id/report.csv',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary:
          'The report as CSV: the input columns, then row, status, invitation, error_code, error_message, user_id',
        params: IdParams,
      },
    },
    async (request, reply) => {
      const { stream, fileName } = await importReport(
        app.db,
        callerOf(request).workspaceId,
        request.params.id,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .send(stream);
    },
  );

  const action = (name: 'cancel' | 'retry' | 'apply', summary: string, status: number) =>
    app.post(
      `/v1/imports/:id/${name}`,
      {
        config: { scope: 'imports' },
        schema: {
          tags: ['imports'],
          summary,
          params: IdParams,
          response: { [status]: Import, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const id = request.params.id;
        if (name === 'cancel')
          return reply.status(status).send(await cancelImport(app.db, caller.workspaceId, id));
        const imp =
          name === 'retry'
            ? await retryImport(app.db, caller.workspaceId, id)
            : await applyDryRun(app.db, caller.workspaceId, id, caller.tokenPrefix);
        await enqueueImport(app.queues, request.log, caller.workspaceId, imp.id, imp.attempt);
        return reply.status(status).header('location', `/v1/imports/${imp.id}`).send(toImport(imp));
      },
    );
  action('cancel', 'Stop at the next batch boundary; unprocessed rows stay pending', 200);
  action('retry', 'Re-run failed (not duplicate) and pending rows, same id', 202);
  action('apply', 'Run a finished dry run for real as a new import, without a second upload', 202);
};

export default routes;
