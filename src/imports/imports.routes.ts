import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, PageQuery, errorResponses, textResponse } from '../api/common.js';
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
import {
  Import,
  ImportRow,
  MappingParams,
  RowsFilter,
  RowsQuery,
  SavedMapping,
  UploadBody,
  UploadOptions,
  UploadQuery,
} from '../api/imports.js';
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
      schema: {
        tags: ['imports'],
        summary: 'A CSV template: the header and two example rows',
        description:
          'UTF-8 with a BOM and CRLF line ends, so Excel opens it as it is; fill it in and upload it with POST /v1/imports.',
        docs: {
          responses: {
            200: textResponse(
              'text/csv',
              'the template, as an attachment',
              'Email,First Name,Last Name,Role,Location\r\nann.lee@example.com,Ann,Lee,Member,London\r\n',
            ),
          },
        },
      },
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
        description: [
          'Streams the file to a spool, checks it (type by its bytes, encoding, delimiter, header, limits), stages its rows and queues the import: 202 with the import and `Location`. Poll GET /v1/imports/{id} for progress and GET /v1/imports/{id}/rows for the per-row report.',
          'Refused uploads stage nothing: 422 `missing_columns` (with `headers` and `suggestions`), `empty_file`, `unknown_default_role`, `unknown_sheet`, `sync_empty_file`; 415 `unsupported_file_type`; 413 `file_too_large` / `too_many_rows`; 400 `invalid_option` / `invalid_mapping`.',
          'With an `Idempotency-Key` header the same file and options within 24 hours answer 200 with the original import; other bytes or options under the key are 409 `idempotency_key_reused`, and 409 `idempotency_key_in_progress` while the first request runs.',
        ].join('\n\n'),
        querystring: UploadQuery,
        docs: { querystring: UploadOptions, body: UploadBody },
        response: {
          200: { ...Import, description: 'a replay of an Idempotency-Key: the original import' },
          202: { ...Import, description: 'the file is staged and the import queued' },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422, 429),
        },
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
        description:
          'Each explicit choice of an accepted upload (the mapping option, or a header mapped in the app) is remembered per normalised header and applied to later files with that header; an Import says so in mappingSources (saved).',
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
        description:
          'The header matches in any spelling that normalises alike; 404 `mapping_not_found` when the workspace saved none for it.',
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
        description: 'Every import of the workspace, reverts included, newest first, a page at a time.',
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
        description:
          '`processedRows` and `counts` move while it runs; `status` ends completed, completed_with_errors (some row failed), failed or cancelled.',
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
        description:
          'Rows in file order (sync deactivations last, with row null); a status outside the enum is 400 `invalid_status`.',
        params: IdParams,
        querystring: RowsQuery,
        docs: { querystring: RowsFilter },
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
        description:
          'UTF-8 with BOM, CRLF, the input delimiter: the input columns in their order, then the six report columns (suffixed `_` where an input column has that name). Cells that a spreadsheet would run as a formula get a leading apostrophe. Upload it again to re-run it: the report columns are ignored. 410 `import_purged` past retention.',
        params: IdParams,
        docs: {
          responses: {
            200: textResponse(
              'text/csv',
              'the report, as an attachment',
              '\ufeffEmail,Name,row,status,invitation,error_code,error_message,user_id\r\nann.lee@example.com,Ann Lee,2,created,queued,,,01907c4e-2f1a-7b3c-8d4e-5f6a7b8c9d01\r\n',
            ),
            ...errorResponses(400, 401, 403, 404, 410),
          },
        },
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

  const action = (name: 'cancel' | 'retry' | 'apply', summary: string, description: string, status: number) =>
    app.post(
      `/v1/imports/:id/${name}`,
      {
        config: { scope: 'imports' },
        schema: {
          tags: ['imports'],
          summary,
          description,
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
  action(
    'cancel',
    'Stop at the next batch boundary; unprocessed rows stay pending',
    'A queued import is cancelled at once; a processing one stops after the batch in hand. 409 `import_not_cancellable` once it has finished.',
    200,
  );
  action(
    'retry',
    'Re-run failed (not duplicate) and pending rows, same id',
    'For an import that is completed_with_errors, failed or cancelled: failed rows (not duplicate_in_file) and pending ones run again as a new attempt of the same import; 409 `import_not_retryable` otherwise.',
    202,
  );
  action(
    'apply',
    'Run a finished dry run for real as a new import, without a second upload',
    "The dry run's staged rows, options and mapping become a new import (its id in `Location`); 409 `import_not_applicable` unless it is a finished, unpurged dry run.",
    202,
  );
};

export default routes;
