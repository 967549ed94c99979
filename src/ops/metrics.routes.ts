import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../api/common.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/metrics',
    {
      config: { operator: true },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this process (OPERATOR_TOKEN)',
        response: { 200: Type.String(), ...errorResponses(401) },
      },
    },
    async (_request, reply) => reply.type(app.metrics.contentType).send(await app.metrics.metrics()),
  );
};

export default routes;
