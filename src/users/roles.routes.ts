import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, PageQuery, errorResponses } from '../api/common.js';
import { NewRoleBody, Role, RolePatchBody } from '../api/roles.js';
import { createRole, listRoles, updateRole } from './roles.service.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/roles',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['roles'],
        summary: 'List roles, highest rank first',
        description:
          'Highest rank first, then creation order; isDefault marks the role users get when none is given.',
        querystring: PageQuery,
        response: { 200: Page(Role), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listRoles(app.db, callerOf(request).workspaceId, request.query),
  );

  app.post(
    '/v1/roles',
    {
      // Creating and ranking roles moves members' effective roles: an administrator's decision.
      config: { scope: 'admin' },
      schema: {
        tags: ['roles'],
        summary: 'Create a role',
        description:
          'Names are unique ignoring case (409 role_exists); rank defaults to 0. A role is also a SCIM group.',
        body: NewRoleBody,
        response: { 201: Role, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await createRole(
            app.db,
            callerOf(request).workspaceId,
            request.body,
            callerOf(request).tokenPrefix,
          ),
        ),
  );

  app.patch(
    '/v1/roles/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['roles'],
        summary: 'Rename a role or change its rank',
        description:
          'At least one of name and rank. A new rank moves the effective role of users whose groups include the role, each journaled as user.role_changed.',
        params: IdParams,
        body: RolePatchBody,
        response: { 200: Role, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      updateRole(
        app.db,
        callerOf(request).workspaceId,
        request.params.id,
        request.body,
        callerOf(request).tokenPrefix,
      ),
  );
};

export default routes;
