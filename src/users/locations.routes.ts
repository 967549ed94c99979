import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../auth/plugin.js';
import { IdParams, Page, PageQuery, errorResponses } from '../api/common.js';
import { createLocation, listLocations, renameLocation } from './locations.service.js';
import { Location, NewLocationBody } from '../api/roles.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/locations',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['locations'],
        summary: 'List locations by name',
        description: 'Every location of the workspace, by name.',
        querystring: PageQuery,
        response: { 200: Page(Location), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listLocations(app.db, callerOf(request).workspaceId, request.query),
  );

  app.post(
    '/v1/locations',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['locations'],
        summary: 'Create a location',
        description: 'Names are unique ignoring case: 409 location_exists.',
        body: NewLocationBody,
        response: { 201: Location, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await createLocation(
            app.db,
            callerOf(request).workspaceId,
            request.body,
            callerOf(request).tokenPrefix,
          ),
        ),
  );

  app.patch(
    '/v1/locations/:id',
    {
      config: { scope: 'users' },
      schema: {
        tags: ['locations'],
        summary: 'Rename a location (its users keep it)',
        description:
          'Users refer to a location by id, so they keep it under its new name; 404 location_not_found, 409 location_exists.',
        params: IdParams,
        body: NewLocationBody,
        response: { 200: Location, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      renameLocation(
        app.db,
        callerOf(request).workspaceId,
        request.params.id,
        request.body,
        callerOf(request).tokenPrefix,
      ),
  );
};

export default routes;
