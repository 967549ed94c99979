import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../auth/plugin.js';
import { errorResponses } from '../api/common.js';
import { currentWorkspace } from './workspaces.service.js';

const Workspace = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  tokenPrefix: Type.String({ description: 'the public prefix of the token that asked' }),
  scopes: Type.Array(Type.String(), { description: 'what the token that asked may open' }),
});

/** The token's own workspace: its name for the app's header, and what the token may open. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/workspace',
    {
      config: { anyScope: true },
      schema: {
        tags: ['settings'],
        summary: "The token's workspace (id, name) and the token's scopes; any workspace token",
        response: { 200: Workspace, ...errorResponses(401) },
      },
    },
    async (request) => currentWorkspace(app.db, callerOf(request)),
  );
};

export default routes;
