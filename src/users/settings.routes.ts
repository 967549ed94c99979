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
        description:
          "The default role, the invitation lifetime, SCIM's invitation and location behaviour, and the sync safety threshold.",
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
        description:
          'Fields left out stay as they are; defaultRole is a role name (422 unknown_role). A change is journaled as settings.updated with each setting from and to.',
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
        description:
          'Every change from every front door, one event per changed user with each field from and to; filter by user, time window, action, source, actor or target.',
        querystring: AuditQuery,
        response: { 200: Page(AuditEvent), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listAudit(app.db, callerOf(request).workspaceId, request.query),
  );
};

export default routes;
