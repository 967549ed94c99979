/**
 * The one SCIM schema model (RFC 7643 §7): every attribute of User, EnterpriseUser, the Loopit extension
 * and Group is declared here once, with where it is stored. /Schemas and /ResourceTypes are rendered from
 * it; PATCH paths, filters, sorting and the write checks resolve names against it; the generated tests
 * in test/scim-schema-model.test.ts exercise every attribute it declares.
 */
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, LOOPIT_USER } from './urns.js';

/** A multi-valued attribute whose elements filters reach as `f_el.el` (see filter/sql.ts). */
export type Collection = 'emails' | 'phoneNumbers' | 'addresses' | 'roles' | 'members';

/** Where an attribute lives in Postgres, for filters and sorting; absent: not filterable. */
export type Storage =
  | { kind: 'userName' }
  /** A group's displayName: the role's name, compared through its key. */
  | { kind: 'groupName' }
  | { kind: 'id' }
  | { kind: 'active' }
  | { kind: 'time'; column: 'created_at' | 'updated_at' }
  | { kind: 'column'; column: 'external_id' | 'given_name' | 'family_name' }
  | { kind: 'displayName' }
  | { kind: 'json'; path: string[] }
  | { kind: 'named'; table: 'roles' | 'locations'; column: 'role_id' | 'location_id' }
  | { kind: 'element'; collection: Collection; key: string };

export type AttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';

export interface ScimAttribute {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: ScimAttribute[];
  /** Not served: where the attribute is stored (filters, sorting). */
  storage?: Storage;
  /** Not served: sortBy may name it (single-valued attributes with a storage). */
  sortable?: boolean;
  /** Not served: accepted on writes and stored nowhere (password: Loopit users sign in by SSO or invitation). */
  discarded?: boolean;
  /** Not served: false when a PATCH `remove` has no meaning (active: a user is active or not); 400 mutability. */
  removable?: boolean;
}

export interface ScimSchema {
  id: string;
  name: string;
  description: string;
  attributes: ScimAttribute[];
}

export interface ScimResourceType {
  id: string;
  name: string;
  endpoint: string;
  description: string;
  schema: string;
  schemaExtensions: { schema: string; required: boolean }[];
}

const attr = (
  name: string,
  type: AttributeType,
  description: string,
  more: Partial<ScimAttribute> = {},
): ScimAttribute => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...more,
});

const str = (name: string, description: string, more: Partial<ScimAttribute> = {}): ScimAttribute =>
  attr(name, 'string', description, more);

const primary = attr('primary', 'boolean', 'Whether this is the preferred value.');

/** A multi-valued attribute stored as a list of elements: it and each sub-attribute can be filtered. */
function collection(a: ScimAttribute, name: Collection, unstored: string[] = []): ScimAttribute {
  const skip = new Set(['$ref', ...unstored]);
  return {
    ...a,
    storage: { kind: 'element', collection: name, key: 'value' },
    subAttributes: (a.subAttributes ?? []).map((sub) => ({
      ...sub,
      ...(skip.has(sub.name) ? {} : { storage: { kind: 'element', collection: name, key: sub.name } }),
    })),
  };
}

/** A multi-valued complex attribute with value, type and primary (RFC 7643 §2.4). */
const typedValues = (
  name: Collection,
  description: string,
  types: string[],
  extra: ScimAttribute[] = [],
): ScimAttribute =>
  collection(
    attr(name, 'complex', description, {
      multiValued: true,
      subAttributes: [
        str('value', `The ${name} value.`),
        ...extra,
        str('type', 'A label for the function of this value.', { canonicalValues: types }),
        primary,
      ],
    }),
    name,
  );

/** A string kept as given in the user's `attributes` jsonb, under the path given. */
const stored = (name: string, description: string, path: string[], more: Partial<ScimAttribute> = {}) =>
  str(name, description, { storage: { kind: 'json', path }, sortable: true, ...more });

export const USER_SCHEMA: ScimSchema = {
  id: CORE_USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the user, usually an e-mail address; unique ignoring case.', {
      required: true,
      uniqueness: 'server',
      storage: { kind: 'userName' },
      sortable: true,
    }),
    str('externalId', "The identity provider's identifier for the user; unique per workspace when set.", {
      caseExact: true,
      uniqueness: 'server',
      storage: { kind: 'column', column: 'external_id' },
      sortable: true,
    }),
    attr('name', 'complex', "The components of the user's name.", {
      subAttributes: [
        stored('formatted', 'The full name, as sent (kept apart from displayName).', ['name', 'formatted']),
        str('familyName', 'The family name.', {
          storage: { kind: 'column', column: 'family_name' },
          sortable: true,
        }),
        str('givenName', 'The given name.', {
          storage: { kind: 'column', column: 'given_name' },
          sortable: true,
        }),
        stored('middleName', 'The middle name(s).', ['name', 'middleName']),
        stored('honorificPrefix', "The honorific prefix, such as 'Ms.'.", ['name', 'honorificPrefix']),
        stored('honorificSuffix', "The honorific suffix, such as 'III'.", ['name', 'honorificSuffix']),
      ],
    }),
    str(
      'displayName',
      'The name of the user, suitable for display; when no name at all is sent, the userName (or name.formatted).',
      { storage: { kind: 'displayName' }, sortable: true },
    ),
    stored('nickName', 'The casual way to address the user.', ['nickName']),
    attr('profileUrl', 'reference', "A URI of the user's online profile.", {
      referenceTypes: ['external'],
      storage: { kind: 'json', path: ['profileUrl'] },
      sortable: true,
    }),
    stored('title', "The user's title, such as 'Vice President'.", ['title']),
    stored('userType', "The relationship between the organisation and the user, such as 'Employee'.", [
      'userType',
    ]),
    stored(
      'preferredLanguage',
      "The user's preferred written or spoken language (RFC 7231 Accept-Language).",
      ['preferredLanguage'],
    ),
    stored('locale', "The user's default location for localisation (language tag, such as 'en-GB').", [
      'locale',
    ]),
    stored('timezone', "The user's time zone in the IANA format, such as 'Europe/London'.", ['timezone']),
    attr(
      'active',
      'boolean',
      'false: deactivated. true: active, or invited until the invitation is accepted. Not sent on create: true. Cannot be removed (400 mutability): replace it.',
      { storage: { kind: 'active' }, sortable: true, removable: false },
    ),
    attr(
      'password',
      'string',
      'Accepted and stored nowhere: Loopit users sign in through SSO or an invitation.',
      {
        mutability: 'writeOnly',
        returned: 'never',
        discarded: true,
      },
    ),
    typedValues(
      'emails',
      'E-mail addresses; the primary one (else the first, else a userName that is an e-mail) is the Loopit e-mail. Optional: a user may have none unless the workspace invites SCIM users. At most 50.',
      ['work', 'home', 'other'],
      [str('display', 'A human-readable value.')],
    ),
    typedValues(
      'phoneNumbers',
      'Phone numbers.',
      ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
      [str('display', 'A human-readable value.')],
    ),
    collection(
      attr('addresses', 'complex', 'Physical mailing addresses.', {
        multiValued: true,
        subAttributes: [
          str('formatted', 'The full mailing address.'),
          str('streetAddress', 'The street address.'),
          str('locality', 'The city or locality.'),
          str('region', 'The state or region.'),
          str('postalCode', 'The zip or postal code.'),
          str('country', 'The country, as an ISO 3166-1 alpha-2 code.'),
          str('type', 'A label for the address.', { canonicalValues: ['work', 'home', 'other'] }),
          primary,
        ],
      }),
      'addresses',
    ),
    attr('groups', 'complex', 'The groups the user belongs to (read-only; groups are Loopit roles).', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', 'The id of the group.', { mutability: 'readOnly' }),
        attr('$ref', 'reference', 'The URI of the group.', {
          mutability: 'readOnly',
          referenceTypes: ['Group'],
        }),
        str('display', 'The name of the group.', { mutability: 'readOnly' }),
        str('type', 'direct or indirect.', {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    }),
    collection(
      attr(
        'roles',
        'complex',
        `The user's role, one value: the name of a role of the workspace, returned as [{ "value": <name>, "primary": true }]. add and replace set it (the element sent as primary, else the last one sent); remove gives the default role; an unknown name is 400 invalidValue. The ${LOOPIT_USER} role wins when both are sent.`,
        {
          multiValued: true,
          subAttributes: [
            str('value', 'The name of a role of the workspace.'),
            str('display', 'A human-readable name (not stored).'),
            str('type', 'A label for the role (not stored).'),
            primary,
          ],
        },
      ),
      'roles',
      ['display', 'type'],
    ),
  ],
};

export const ENTERPRISE_USER_SCHEMA: ScimSchema = {
  id: ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    stored(
      'employeeNumber',
      'A string identifier, typically numeric or alphanumeric, assigned to a person.',
      [ENTERPRISE_USER, 'employeeNumber'],
    ),
    stored('costCenter', 'Identifies the name of a cost center.', [ENTERPRISE_USER, 'costCenter']),
    stored('organization', 'Identifies the name of an organisation.', [ENTERPRISE_USER, 'organization']),
    stored('division', 'Identifies the name of a division.', [ENTERPRISE_USER, 'division']),
    stored('department', 'Identifies the name of a department.', [ENTERPRISE_USER, 'department']),
    attr('manager', 'complex', "The user's manager.", {
      subAttributes: [
        stored('value', 'The id of the SCIM resource representing the manager.', [
          ENTERPRISE_USER,
          'manager',
          'value',
        ]),
        attr('$ref', 'reference', 'The URI of the manager.', { referenceTypes: ['User'] }),
        stored(
          'displayName',
          'The display name of the manager.',
          [ENTERPRISE_USER, 'manager', 'displayName'],
          {
            mutability: 'readOnly',
          },
        ),
      ],
    }),
  ],
};

export const LOOPIT_USER_SCHEMA: ScimSchema = {
  id: LOOPIT_USER,
  name: 'LoopitUser',
  description: 'Loopit workspace attributes of a user',
  attributes: [
    str(
      'role',
      'The name of a role of the workspace (compared ignoring case); unknown names are 400 invalidValue. Not sent: unchanged (on create: the default role). Returned: the effective role.',
      { storage: { kind: 'named', table: 'roles', column: 'role_id' } },
    ),
    str(
      'location',
      'The name of a location of the workspace (compared ignoring case). A name the workspace lacks is created, unless the workspace setting scimCreatesLocations is off: then it is 400 invalidValue.',
      { storage: { kind: 'named', table: 'locations', column: 'location_id' } },
    ),
  ],
};

export const USER_RESOURCE_TYPE: ScimResourceType = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: CORE_USER,
  schemaExtensions: [
    { schema: ENTERPRISE_USER, required: false },
    { schema: LOOPIT_USER, required: false },
  ],
};

export const GROUP_SCHEMA: ScimSchema = {
  id: CORE_GROUP,
  name: 'Group',
  description: "Group: a Loopit role. A member's role is the highest-ranked role among their groups.",
  attributes: [
    str('displayName', 'The name of the role; unique in the workspace ignoring case.', {
      required: true,
      uniqueness: 'server',
      storage: { kind: 'groupName' },
      sortable: true,
    }),
    str('externalId', "The identity provider's identifier for the group.", {
      caseExact: true,
      storage: { kind: 'column', column: 'external_id' },
      sortable: true,
    }),
    collection(
      attr(
        'members',
        'complex',
        'The users in the group (nested groups are not supported). Reads and POST answers stream every member; PUT and PATCH answers hold them only when attributes names them.',
        {
          multiValued: true,
          subAttributes: [
            str('value', 'The id of the user.', { mutability: 'immutable' }),
            attr('$ref', 'reference', 'The URI of the user.', {
              mutability: 'immutable',
              referenceTypes: ['User'],
            }),
            str('display', "The user's display name, else userName.", { mutability: 'readOnly' }),
            str('type', 'User (the only type of member).', {
              mutability: 'immutable',
              canonicalValues: ['User'],
            }),
          ],
        },
      ),
      'members',
    ),
  ],
};

export const GROUP_RESOURCE_TYPE: ScimResourceType = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group (a Loopit role)',
  schema: CORE_GROUP,
  schemaExtensions: [],
};

/** The schemas of a User resource (the filter catalogue of Users is built from these). */
export const USER_SCHEMAS: readonly ScimSchema[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, LOOPIT_USER_SCHEMA];

/** The schemas of a Group resource. */
export const GROUP_SCHEMAS: readonly ScimSchema[] = [GROUP_SCHEMA];

/**
 * Common attributes (RFC 7643 §3.1): in every resource, in no schema's attribute list. Read-only;
 * filters and sorting reach id and the meta times.
 */
export const COMMON_ATTRIBUTES: readonly ScimAttribute[] = [
  str('id', 'The resource id.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    storage: { kind: 'id' },
    sortable: true,
  }),
  str('schemas', 'The schemas of the resource.', {
    multiValued: true,
    mutability: 'readOnly',
    returned: 'always',
  }),
  attr('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'User or Group.', { mutability: 'readOnly' }),
      attr('created', 'dateTime', 'When it was created.', {
        mutability: 'readOnly',
        storage: { kind: 'time', column: 'created_at' },
        sortable: true,
      }),
      attr('lastModified', 'dateTime', 'When it last changed.', {
        mutability: 'readOnly',
        storage: { kind: 'time', column: 'updated_at' },
        sortable: true,
      }),
      attr('location', 'reference', 'Its URI.', { mutability: 'readOnly' }),
      str('version', 'Its ETag.', { mutability: 'readOnly' }),
    ],
  }),
];

const INTERNAL = new Set(['storage', 'sortable', 'discarded', 'removable']);

/** An attribute as /Schemas serves it: the internal storage notes left out. */
export function served(a: ScimAttribute): ScimAttribute {
  const out = Object.fromEntries(Object.entries(a).filter(([k]) => !INTERNAL.has(k))) as ScimAttribute;
  if (a.subAttributes) out.subAttributes = a.subAttributes.map(served);
  return out;
}

/** Every schema served at /Schemas, in order. */
export const SCHEMAS: readonly ScimSchema[] = [...USER_SCHEMAS, GROUP_SCHEMA];

/** Every resource type served at /ResourceTypes. */
export const RESOURCE_TYPES: readonly ScimResourceType[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

/** What ServiceProviderConfig advertises; keep it true to what the routes do. */
export const SERVICE_PROVIDER_FEATURES = {
  patch: { supported: true },
  bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 2_097_152 },
  filter: { supported: true, maxResults: 1000 },
  changePassword: { supported: false },
  sort: { supported: true },
  etag: { supported: true },
} as const;
