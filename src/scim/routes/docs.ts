import { Type, type TSchema } from '@sinclair/typebox';
import { EXAMPLE } from '../../api/examples.js';
import {
  BULK_REQUEST,
  BULK_RESPONSE,
  CORE_GROUP,
  CORE_USER,
  LIST_RESPONSE,
  LOOPIT_USER,
  PATCH_OP,
  SEARCH_REQUEST,
} from '../schema/urns.js';

// Examples hold no `$ref` member attribute: @fastify/swagger takes an object with `$ref` for a reference.

/**
 * What the OpenAPI shows of SCIM bodies and answers (RFC 7643, 7644), never used to validate or
 * serialize them: a response schema that lists properties would strip extension attributes, and the
 * schema model (/Schemas) is what validates. Examples are what this service sends and takes.
 */

const BASE = 'https://provision.example.com/scim/v2';

const resource = (description: string, example: object): TSchema =>
  Type.Object(
    { schemas: Type.Array(Type.String()) },
    { additionalProperties: true, description, examples: [example] },
  );

const userExample = {
  schemas: [CORE_USER, LOOPIT_USER],
  id: EXAMPLE.userId,
  externalId: '00u1ab2cd3EF4gh5i6j7',
  userName: 'ann.lee@example.com',
  name: { givenName: 'Ann', familyName: 'Lee' },
  displayName: 'Ann Lee',
  emails: [{ value: 'ann.lee@example.com', type: 'work', primary: true }],
  active: true,
  groups: [],
  roles: [{ value: 'Customer Success', primary: true }],
  [LOOPIT_USER]: { role: 'Customer Success', location: 'London' },
  meta: {
    resourceType: 'User',
    created: EXAMPLE.created,
    lastModified: EXAMPLE.updated,
    location: `${BASE}/Users/${EXAMPLE.userId}`,
    version: 'W/"2"',
  },
};

const groupExample = {
  schemas: [CORE_GROUP],
  id: EXAMPLE.roleId,
  displayName: 'Support Leads',
  members: [{ value: EXAMPLE.userId, display: 'Ann Lee' }],
  meta: {
    resourceType: 'Group',
    created: EXAMPLE.created,
    lastModified: EXAMPLE.updated,
    location: `${BASE}/Groups/${EXAMPLE.roleId}`,
    version: 'W/"3"',
  },
};

const list = (item: object) => ({
  schemas: [LIST_RESPONSE],
  totalResults: 1,
  startIndex: 1,
  itemsPerPage: 1,
  Resources: [item],
});

export const ScimUser = resource('a SCIM User (RFC 7643 §4.1) with the Loopit extension', userExample);
export const ScimGroup = resource('a SCIM Group (RFC 7643 §4.2): a Loopit role', groupExample);
export const UserList = resource('a ListResponse of Users (RFC 7644 §3.4.2)', list(userExample));
export const GroupList = resource('a ListResponse of Groups (RFC 7644 §3.4.2)', list(groupExample));

const without = (example: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(example).filter(([key]) => !keys.includes(key)));
const newUser = without(userExample, 'id', 'meta', 'groups');
const newGroup = without(groupExample, 'id', 'meta');
export const NewScimUser = resource('the User to create or to replace with', newUser);
export const NewScimGroup = resource('the Group to create or to replace with', newGroup);

export const UserPatch = resource('a PatchOp (RFC 7644 §3.5.2)', {
  schemas: [PATCH_OP],
  Operations: [
    { op: 'replace', path: 'active', value: false },
    { op: 'replace', path: `${LOOPIT_USER}:location`, value: 'Paris' },
  ],
});
export const GroupPatch = resource('a PatchOp (RFC 7644 §3.5.2) on name or members', {
  schemas: [PATCH_OP],
  Operations: [{ op: 'add', path: 'members', value: [{ value: EXAMPLE.otherUserId }] }],
});

export const SearchRequest = resource('a SearchRequest (RFC 7644 §3.4.3)', {
  schemas: [SEARCH_REQUEST],
  filter: 'userName eq "ann.lee@example.com"',
  startIndex: 1,
  count: 10,
});

export const BulkRequest = resource('a BulkRequest (RFC 7644 §3.7)', {
  schemas: [BULK_REQUEST],
  failOnErrors: 1,
  Operations: [
    {
      method: 'POST',
      path: '/Users',
      bulkId: 'ann',
      data: {
        schemas: [CORE_USER],
        userName: 'ann.lee@example.com',
        name: { givenName: 'Ann', familyName: 'Lee' },
      },
    },
    { method: 'DELETE', path: `/Users/${EXAMPLE.otherUserId}` },
  ],
});

export const BULK_RESPONSE_EXAMPLE = {
  schemas: [BULK_RESPONSE],
  Operations: [
    {
      location: `${BASE}/Users/${EXAMPLE.userId}`,
      method: 'POST',
      bulkId: 'ann',
      version: 'W/"1"',
      status: '201',
    },
    {
      location: `${BASE}/Users/${EXAMPLE.otherUserId}`,
      method: 'DELETE',
      status: '404',
      response: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '404',
        detail: `User ${EXAMPLE.otherUserId} not found.`,
      },
    },
  ],
};

/** A SCIM answer of `schema` as the OpenAPI shows it: application/scim+json. */
export const scimResponse = (description: string, schema: TSchema): TSchema =>
  ({
    description,
    content: {
      'application/scim+json': { schema, example: (schema.examples as unknown[] | undefined)?.[0] },
    },
  }) as unknown as TSchema;

/** A SCIM request body, under both media types SCIM clients send. */
export const scimBody = (schema: TSchema): Record<string, TSchema> => ({
  'application/scim+json': schema,
  'application/json': schema,
});

export const noContent = (description: string): TSchema => ({ description }) as unknown as TSchema;
