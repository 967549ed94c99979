import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { errorResponses } from '../api/common.js';
import { fixImportRow } from './row-fixes.service.js';
import { ImportRow, RowFixBody, RowParams } from '../api/imports.js';

/** Correcting failed rows in the app, before `POST /v1/imports/:id/retry` runs them again. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.patch(
    '/v1/imports/:id/rows/:row',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary:
          'Correct a failed row of a finished import (a dry run included); POST /v1/imports/:id/retry then runs it',
        description:
          "Only failed rows of a finished import take corrections (409 row_not_fixable otherwise, and for a revert's rows); the row keeps what the file gave in fixes. 410 import_purged past retention.",
        params: RowParams,
        body: RowFixBody,
        response: { 200: ImportRow, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request) =>
      fixImportRow(
        app.db,
        callerOf(request).workspaceId,
        request.params.id,
        request.params.row,
        request.body,
      ),
  );
};

export default routes;
