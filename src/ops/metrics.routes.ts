import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses, textResponse } from '../api/common.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/metrics',
    {
      config: { operator: true },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this process (OPERATOR_TOKEN)',
        description:
          'The Prometheus text format: HTTP and SCIM request counters, upload and import figures, queue depth.',
        response: { 200: Type.String(), ...errorResponses(401) },
        docs: {
          responses: {
            200: textResponse(
              'text/plain',
              'Prometheus text exposition format',
              '# HELP loopit_jobs_total BullMQ jobs this process finished, by queue, job name and result (completed or failed).\n# TYPE loopit_jobs_total counter\nloopit_jobs_total{queue="imports",name="batch",result="completed"} 42\n',
            ),
          },
        },
      },
    },
    async (_request, reply) => reply.type(app.metrics.contentType).send(await app.metrics.metrics()),
  );
};

export default routes;
