import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorBody, ScimErrorBody } from '../api/common.js';

/** OpenAPI 3 built from the route schemas, browsable at /docs (JSON at /docs/json). */
export default fp(
  async function openapi(app: FastifyInstance) {
    app.addSchema(ErrorBody);
    app.addSchema(ScimErrorBody);
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Loopit Provision',
          version: '1.0.0',
          description: 'Bulk user provisioning and sync.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'openapi' },
);
