import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, errorResponses } from '../api/common.js';
import { afterWrite } from './after-write.js';
import {
  BulkAnswer,
  BulkBody,
  IfMatchHeaders,
  NewUserBody,
  User,
  UserListQuery,
  UserPatchBody,
} from '../api/users.js';
import { bulkUsers } from './bulk.service.js';
import { createUser, deleteUser, getUser, listUsers, parseIfMatch, updateUser } from './users.service.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const actor = (request: Parameters<typeof callerOf>[0]) => {
    const caller = callerOf(request);
    return { workspaceId: caller.workspaceId, actor: caller.tokenPrefix };
  };

  app.get(
    '/v1/users',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary: 'List users, oldest first, filtered by status, role, location or a search string',
        description:
          'role and location are names, compared ignoring case; q is a substring of the e-mail, userName or name. Deleted users never appear.',
        querystring: UserListQuery,
        response: { 200: Page(User), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listUsers(app.db, callerOf(request).workspaceId, request.query),
  );

  app.post(
    '/v1/users/bulk',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary:
          'One action on up to 1,000 users (deactivate, reactivate, delete, resend_invitation, set_role, set_location), answered per id',
        description:
          'The ids run through the provisioning engine as one batch; each gets its own result (an id of another workspace is not_found), and each change is journaled with source bulk. value names the role (set_role) or the location, or null for none (set_location).',
        body: BulkBody,
        response: { 200: BulkAnswer, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const answer = await bulkUsers(app.db, actor(request), request.body);
      await afterWrite(app, request.log, callerOf(request).workspaceId, answer.invited ? 'queued' : null);
      return { action: answer.action, results: answer.results, counts: answer.counts };
    },
  );

  app.post(
    '/v1/users',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary: 'Add a user; an invitation e-mail goes out unless sendInvite is false',
        description:
          'Give name, or givenName and familyName. The userName is the e-mail; role and location are names of the workspace (422 unknown_role / unknown_location). 409 email_taken when a user has the e-mail. Answers with Location and ETag.',
        body: NewUserBody,
        response: { 201: User, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const { user, invitation } = await createUser(app.db, actor(request), request.body);
      await afterWrite(app, request.log, callerOf(request).workspaceId, invitation);
      return reply
        .status(201)
        .header('etag', `"${user.version}"`)
        .header('location', `/v1/users/${user.id}`)
        .send(user);
    },
  );

  app.get(
    '/v1/users/:id',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        description: 'The user with its role, location and newest invitation; ETag is its version.',
        params: IdParams,
        response: { 200: User, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const user = await getUser(app.db, callerOf(request).workspaceId, request.params.id);
      return reply.header('etag', `"${user.version}"`).send(user);
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary: 'Edit a user: name, role, location; status deactivated or active (reactivate)',
        description:
          'Fields left out stay as they are; null clears a name part or the location. status deactivated revokes an open invitation; active reactivates. With If-Match a stale version is 412; a role that comes from identity-provider groups is 409 role_managed_by_identity_provider.',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UserPatchBody,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 409, 412, 422) },
      },
    },
    async (request, reply) => {
      const { user, invitation } = await updateUser(
        app.db,
        actor(request),
        request.params.id,
        request.body,
        parseIfMatch(request.headers['if-match']),
      );
      await afterWrite(app, request.log, callerOf(request).workspaceId, invitation);
      return reply.header('etag', `"${user.version}"`).send(user);
    },
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user (hidden from every read, kept for the audit trail)',
        description:
          'The user is hidden from every read, its open invitation revoked, and its e-mail and userName are free again; the audit trail keeps it. Honours If-Match.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 412) },
      },
    },
    async (request, reply) => {
      await deleteUser(app.db, actor(request), request.params.id, parseIfMatch(request.headers['if-match']));
      return reply.status(204).send();
    },
  );
};

export default routes;
