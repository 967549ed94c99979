import { userLocation } from '../resources/user-mapper.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  patchScimUser,
  replaceScimUser,
} from '../resources/users.service.js';
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
