import { userLocation } from '../resources/user-mapper.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
} from '../resources/users.service.js';
import { NewScimUser, ScimUser, UserList, UserPatch } from './docs.js';
import { resourceRoutes } from './resource-routes.js';

/** SCIM Users (RFC 7644 §3): resources and errors in SCIM's own JSON, with `application/scim+json`. */
export default resourceRoutes({
  endpoint: 'Users',
  summaries: {
    list: 'List or filter users',
    create: 'Create a user (201 with Location)',
    get: 'Get a user',
    replace: 'Replace a user (the role is kept when not sent)',
    patch: 'Patch a user (RFC 7644 §3.5.2)',
    remove: 'Delete a user (404 afterwards; userName free again)',
  },
  descriptions: {
    list: 'filter is translated to SQL (unquoted strings are 400 invalidFilter); startIndex and count page the answer (count at most 1000); sortBy, sortOrder, attributes and excludedAttributes as RFC 7644 §3.4.2 says.',
    create:
      'userName is required and unique ignoring case, as is the e-mail (409 uniqueness). The role comes from the Loopit extension, else the core roles attribute, else the default role; a location the workspace lacks is created unless scimCreatesLocations is off. With SCIM invitations on, the user is invited and e-mailed.',
    get: 'The user as /Schemas describes it, projected by attributes or excludedAttributes; If-None-Match with the current version answers 304.',
    replace:
      'Replaces every writable attribute; a role left out is kept. Atomic: a concurrent write is never lost; If-Match makes a stale version 412.',
    patch:
      'add, replace and remove, with paths, value filters (emails[type eq "work"].value) or none; Entra ID\'s capitalised ops and string booleans are read. All or nothing: the first failing operation answers 400 and nothing changes.',
    remove: 'The user is hidden from every read and its open invitation revoked; the audit trail keeps it.',
  },
  docs: { resource: ScimUser, list: UserList, body: NewScimUser, patch: UserPatch },
  service: {
    list: listScimUsers,
    get: (db, caller, id) => getScimUser(db, caller, id),
    create: (db, caller, body) => createScimUser(db, caller, body),
    replace: (db, caller, id, body, ifMatch) => replaceScimUser(db, caller, id, body, ifMatch),
    patch: (db, caller, id, body, ifMatch) => patchScimUser(db, caller, id, body, ifMatch),
    remove: deleteScimUser,
    location: userLocation,
  },
});
