import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { Page, errorResponses } from '../api/common.js';
import { listAudit } from './audit.service.js';
import { getSettings, updateSettings } from './settings.service.js';
import { AuditEvent, AuditQuery, Settings, SettingsPatchBody } from '../api/settings.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['settings'],
        summary: 'Workspace settings',
        response: { 200: Settings, ...errorResponses(401, 403) },
      },
    },
    async (request) => getSettings(app.db, callerOf(request).workspaceId),
  );

  app.patch(
    '/v1/settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['settings'],
        summary: 'Change workspace settings (default role by name)',
        body: SettingsPatchBody,
        response: { 200: Settings, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return updateSettings(app.db, caller.workspaceId, caller.tokenPrefix, request.body);
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first',
        querystring: AuditQuery,
        response: { 200: Page(AuditEvent), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listAudit(app.db, callerOf(request).workspaceId, request.query),
  );
};

export default routes;
