import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../auth/plugin.js';
import { AppError } from '../lib/errors.js';
import { EXAMPLE } from '../api/examples.js';
import { IdParams, errorResponses, textResponse } from '../api/common.js';
import { acceptInvitation, inspectInvitation } from '../provisioning/invitations.js';
import { enqueueResend } from '../queues/resends.js';
import { acceptPage, type PageState } from './accept-page.js';
import { afterWrite } from './after-write.js';
import { getResend, requestResend, resendInvitation } from './invitations.service.js';
import { Resend, ResendBody, User } from '../api/users.js';
import { getUser } from './users.service.js';

const TokenBody = Type.Object(
  { token: Type.String({ maxLength: 500, description: 'the token of the e-mail link' }) },
  { additionalProperties: false, examples: [{ token: 'inv_0190a5d27c4e7b3a.Xq3v9LmR2sT8wYp1' }] },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/users/:id/invitation',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['invitations'],
        summary: 'Resend the invitation: a new token; the old link stops working',
        description:
          'Revokes the open invitation and queues a new e-mail with a new token; answers the user with the new invitation. 409 when the user cannot be invited (active, deactivated, or without an e-mail).',
        params: IdParams,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await getUser(app.db, caller.workspaceId, request.params.id); // 404 before 409
      await resendInvitation(app.db, caller.workspaceId, request.params.id, caller.tokenPrefix);
      await afterWrite(app, request.log, caller.workspaceId, 'queued');
      return getUser(app.db, caller.workspaceId, request.params.id);
    },
  );

  app.post(
    '/v1/invitations/resend',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['invitations'],
        summary: 'Re-invite in bulk the invited users whose invitation is expired (or pending), as a job',
        description:
          'Matches the invited users whose newest invitation is expired (or pending), optionally older than olderThanDays, and re-invites them in a job; poll the resend at its Location.',
        body: ResendBody,
        response: { 202: Resend, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const resend = await requestResend(app.db, caller.workspaceId, caller.tokenPrefix, request.body);
      await enqueueResend(app.queues, request.log, caller.workspaceId, resend.id);
      return reply.status(202).header('location', `/v1/invitations/resend/${resend.id}`).send(resend);
    },
  );

  app.get(
    '/v1/invitations/resend/:id',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['invitations'],
        summary: 'Progress of a bulk resend',
        description: 'matched and resent move while the job runs; status ends completed or failed.',
        params: IdParams,
        response: { 200: Resend, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getResend(app.db, callerOf(request).workspaceId, request.params.id),
  );

  app.post(
    '/v1/invitations/accept',
    {
      config: { public: true },
      schema: {
        tags: ['invitations'],
        summary: 'Accept an invitation (no bearer token: the invitation token is the credential)',
        description:
          'Makes the user active. 404 invitation_not_found, 410 invitation_expired, 409 invitation_used.',
        security: [],
        body: TokenBody,
        response: {
          200: Type.Object(
            { userId: Type.String(), email: Type.String(), status: Type.Literal('active') },
            { examples: [{ userId: EXAMPLE.userId, email: 'ann.lee@example.com', status: 'active' }] },
          ),
          ...errorResponses(400, 404, 409, 410),
        },
      },
    },
    async (request) => acceptInvitation(app.db, request.body.token),
  );

  app.get(
    '/invitations/accept',
    {
      config: { public: true },
      schema: {
        tags: ['invitations'],
        summary: 'The page behind the e-mail link; its button POSTs (opening it never accepts)',
        description:
          'An HTML page: valid (200, with the button), not found (404), used (409) or expired (410). Mail scanners open links, so a GET never accepts.',
        docs: {
          responses: {
            200: textResponse('text/html', 'the page, with its Accept button', '<!doctype html>...'),
            404: textResponse('text/html', 'the page says the link is unknown', '<!doctype html>...'),
            409: textResponse('text/html', 'the page says the invitation was used', '<!doctype html>...'),
            410: textResponse('text/html', 'the page says the invitation expired', '<!doctype html>...'),
          },
        },
        security: [],
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 500 })) }),
      },
    },
    async (request, reply) => {
      const token = request.query.token ?? '';
      const state = await inspectInvitation(app.db, token);
      return reply
        .status(state === 'valid' ? 200 : state === 'not_found' ? 404 : state === 'used' ? 409 : 410)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(acceptPage(state, token));
    },
  );

  app.post(
    '/invitations/accept',
    {
      config: { public: true },
      schema: {
        tags: ['invitations'],
        summary: 'The page’s form post',
        description:
          'Accepts as POST /v1/invitations/accept does, and answers the page with the outcome: 200 accepted, 404, 409 or 410 as the JSON route.',
        security: [],
        body: TokenBody,
        docs: {
          body: { 'application/x-www-form-urlencoded': TokenBody },
          responses: {
            200: textResponse('text/html', 'the page says the invitation is accepted', '<!doctype html>...'),
            404: textResponse('text/html', 'the page says the link is unknown', '<!doctype html>...'),
            409: textResponse('text/html', 'the page says the invitation was used', '<!doctype html>...'),
            410: textResponse('text/html', 'the page says the invitation expired', '<!doctype html>...'),
          },
        },
      },
    },
    async (request, reply) => {
      let state: PageState = 'accepted';
      let status = 200;
      try {
        await acceptInvitation(app.db, request.body.token);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        status = error.status;
        state =
          error.code === 'invitation_used'
            ? 'used'
            : error.code === 'invitation_expired'
              ? 'expired'
              : 'not_found';
      }
      return reply
        .status(status)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(acceptPage(state, ''));
    },
  );
};

export default routes;
