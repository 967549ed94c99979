import type { FastifyRequest } from 'fastify';
import {
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  groupLocation,
  listScimGroups,
  patchScimGroup,
  replaceScimGroup,
  wantsMembers,
} from '../resources/groups.service.js';
import { resourceRoutes } from './resource-routes.js';

/** Whether the answer shows the members: not when the projection leaves them out. */
const members = (request: FastifyRequest): boolean => {
  const q = request.query as { attributes?: string; excludedAttributes?: string };
  return wantsMembers(q.attributes, q.excludedAttributes);
};

/** SCIM Groups (RFC 7644 §3): a group is a Loopit role; its members' effective roles follow it. */
export default resourceRoutes({
  endpoint: 'Groups',
  summaries: {
    list: 'List or filter groups (roles)',
    create: 'Create a group: a new role (201 with Location)',
    get: 'Get a group',
    replace: 'Replace a group (name, externalId, members)',
    patch: 'Patch a group: rename, members (204; 200 with the group when attributes are asked for)',
    remove: 'Delete a group and its role (members fall back)',
  },
  patchNoContent: true,
  service: {
    list: listScimGroups,
    get: (db, caller, id, request) => getScimGroup(db, caller, id, members(request)),
    create: (db, caller, body, request) => createScimGroup(db, caller, body, members(request)),
    replace: (db, caller, id, body, ifMatch, request) =>
      replaceScimGroup(db, caller, id, body, ifMatch, members(request)),
    patch: (db, caller, id, body, ifMatch, request) => {
      const q = request.query as { attributes?: string; excludedAttributes?: string };
      const asked = q.attributes !== undefined || q.excludedAttributes !== undefined;
      return patchScimGroup(db, caller, id, body, ifMatch, asked && members(request));
    },
    remove: deleteScimGroup,
    location: groupLocation,
  },
});
