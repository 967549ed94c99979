import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../auth/plugin.js';
import { Literals, errorResponses } from '../api/common.js';
import { EXAMPLE } from '../api/examples.js';
import { SCOPES } from '../auth/tokens.js';
import { currentWorkspace } from './workspaces.service.js';

const Workspace = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    tokenPrefix: Type.String({ description: 'the public prefix of the token that asked' }),
    scopes: Type.Array(Literals(SCOPES), { description: 'what the token that asked may open' }),
  },
  {
    examples: [
      { id: EXAMPLE.workspaceId, name: 'Acme Support', tokenPrefix: 'lp_k3jd9qmz2x', scopes: [...SCOPES] },
    ],
  },
);

/** The token's own workspace: its name for the app's header, and what the token may open. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/workspace',
    {
      config: { anyScope: true },
      schema: {
        tags: ['settings'],
        summary: "The token's workspace (id, name) and the token's scopes; any workspace token",
        description: 'What the token belongs to and may open; the web app signs in with it.',
        response: { 200: Workspace, ...errorResponses(401) },
      },
    },
    async (request) => currentWorkspace(app.db, callerOf(request)),
  );
};

export default routes;
