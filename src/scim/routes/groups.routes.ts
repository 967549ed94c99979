import type { FastifyRequest } from 'fastify';
import {
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  groupLocation,
  listScimGroups,
  namesMembers,
  patchScimGroup,
  replaceScimGroup,
} from '../resources/groups.service.js';
import { GroupList, GroupPatch, NewScimGroup, ScimGroup } from './docs.js';
import { resourceRoutes } from './resource-routes.js';

/**
 * Whether a write's answer shows the members: only when `attributes` names them (RFC 7644 §3.9); reads
 * and creates stream them unless the projection leaves them out.
 */
const members = (request: FastifyRequest): boolean =>
  namesMembers((request.query as { attributes?: string }).attributes);

/** What a PATCH answers: 204 with the ETag unless the request asks for attributes (then 200). */
function patchAnswer(request: FastifyRequest): 'version' | 'group' | 'members' {
  const q = request.query as { attributes?: string; excludedAttributes?: string };
  if (q.attributes === undefined && q.excludedAttributes === undefined) return 'version';
  return members(request) ? 'members' : 'group';
}

/** SCIM Groups (RFC 7644 §3): a group is a Loopit role; its members' effective roles follow it. */
export default resourceRoutes({
  endpoint: 'Groups',
  summaries: {
    list: 'List or filter groups (roles)',
    create: 'Create a group: a new role (201 with Location)',
    get: 'Get a group',
    replace: 'Replace a group (name, externalId, members; members answered only when attributes names them)',
    patch: 'Patch a group: rename, members (204; 200 with the group when attributes are asked for)',
    remove: 'Delete a group and its role (members fall back)',
  },
  descriptions: {
    list: 'Groups are the roles of the workspace; filter, page, sort and project as for Users. Members are streamed into the answer unless excludedAttributes leaves them out.',
    create:
      'Creates a role of rank 0 named displayName (409 uniqueness for a name the workspace has, ignoring case), with its members.',
    get: 'The group and every member, streamed page by page; the answer is cut off rather than mixing two versions if the group changes meanwhile.',
    replace:
      "Sets the name, externalId and the whole member list; members' effective roles follow. Members are answered only when attributes names them.",
    patch:
      'Renames the group, or adds, replaces or removes members; repeated adds and removals of non-members succeed. 204 unless attributes or excludedAttributes asks for the group.',
    remove:
      "Deletes the role; its members fall back to their next group's role, else their direct role, else the default role. The default role's group cannot be deleted: 400 mutability.",
  },
  docs: { resource: ScimGroup, list: GroupList, body: NewScimGroup, patch: GroupPatch },
  patchNoContent: true,
  service: {
    list: listScimGroups,
    get: (db, caller, id) => getScimGroup(db, caller, id),
    create: (db, caller, body) => createScimGroup(db, caller, body),
    replace: (db, caller, id, body, ifMatch, request) =>
      replaceScimGroup(db, caller, id, body, ifMatch, members(request)),
    patch: (db, caller, id, body, ifMatch, request) =>
      patchScimGroup(db, caller, id, body, ifMatch, patchAnswer(request)),
    remove: deleteScimGroup,
    location: groupLocation,
  },
});
