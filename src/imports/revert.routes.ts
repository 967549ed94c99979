import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, errorResponses } from '../api/common.js';
import { enqueueImport } from '../queues/imports.js';
import { toImport } from './imports.service.js';
import { startRevert } from './revert.service.js';
import { Import, RevertBody } from '../api/imports.js';

/** Undoing an import: a new import of kind `revert`, run by the worker like any import. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/imports/:id/revert',
    {
      config: { scope: 'imports' },
      schema: {
        tags: ['imports'],
        summary:
          'Undo an import (created users deleted, changed fields and statuses restored), as a new import of kind revert; dryRun to preview',
        description:
          'The revert is a new import with kind revert and revertOf; users changed since the import are skipped (changed_since_import). 409 import_not_revertible for a dry run, a revert or a running import, 409 import_already_reverted, 410 import_expired past retention.',
        params: IdParams,
        body: RevertBody,
        response: { 202: Import, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
      // A POST without a body is a revert that is not a dry run.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const revert = await startRevert(
        app.db,
        caller.workspaceId,
        request.params.id,
        caller.tokenPrefix,
        request.body.dryRun ?? false,
      );
      await enqueueImport(app.queues, request.log, caller.workspaceId, revert.id, revert.attempt);
      return reply.status(202).header('location', `/v1/imports/${revert.id}`).send(toImport(revert));
    },
  );
};

export default routes;
