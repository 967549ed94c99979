/**
 * The SCIM schemas this service implements (RFC 7643 §7, §8.7), as data: discovery serves them and the
 * filter translator reads types and caseExact from them, so the two never disagree.
 */

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LOOPIT_USER = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export const SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

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

/** A multi-valued complex attribute with value, type and primary (RFC 7643 §2.4). */
const typedValues = (
  name: string,
  description: string,
  types: string[],
  extra: ScimAttribute[] = [],
): ScimAttribute =>
  attr(name, 'complex', description, {
    multiValued: true,
    subAttributes: [
      str('value', `The ${name} value.`),
      ...extra,
      str('type', 'A label for the function of this value.', { canonicalValues: types }),
      primary,
    ],
  });

export const USER_SCHEMA: ScimSchema = {
  id: CORE_USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the user, usually an e-mail address; unique ignoring case.', {
      required: true,
      uniqueness: 'server',
    }),
    str('externalId', "The identity provider's identifier for the user; unique per workspace when set.", {
      caseExact: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's name.", {
      subAttributes: [
        str('formatted', 'The full name; displayName when set, else given and family name.'),
        str('familyName', 'The family name.'),
        str('givenName', 'The given name.'),
        str('middleName', 'The middle name(s).'),
        str('honorificPrefix', "The honorific prefix, such as 'Ms.'."),
        str('honorificSuffix', "The honorific suffix, such as 'III'."),
      ],
    }),
    str('displayName', 'The name of the user, suitable for display.'),
    str('nickName', 'The casual way to address the user.'),
    attr('profileUrl', 'reference', "A URI of the user's online profile.", { referenceTypes: ['external'] }),
    str('title', "The user's title, such as 'Vice President'."),
    str('userType', "The relationship between the organisation and the user, such as 'Employee'."),
    str('preferredLanguage', "The user's preferred written or spoken language (RFC 7231 Accept-Language)."),
    str('locale', "The user's default location for localisation (language tag, such as 'en-GB')."),
    str('timezone', "The user's time zone in the IANA format, such as 'Europe/London'."),
    attr(
      'active',
      'boolean',
      'false: deactivated. true: active, or invited until the invitation is accepted.',
    ),
    typedValues('emails', 'E-mail addresses; the primary one is the Loopit e-mail.', [
      'work',
      'home',
      'other',
    ]),
    typedValues(
      'phoneNumbers',
      'Phone numbers.',
      ['work', 'home', 'mobile', 'fax', 'pager', 'other'],
      [str('display', 'A human-readable value.')],
    ),
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
    attr(
      'roles',
      'complex',
      `The user's role: the value is the name of a role of the workspace (the ${LOOPIT_USER} role wins when both are sent).`,
      {
        multiValued: true,
        subAttributes: [
          str('value', 'The name of a role of the workspace.'),
          str('display', 'A human-readable name.'),
          str('type', 'A label for the role.'),
          primary,
        ],
      },
    ),
  ],
};

export const ENTERPRISE_USER_SCHEMA: ScimSchema = {
  id: ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'A string identifier, typically numeric or alphanumeric, assigned to a person.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organisation.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attr('manager', 'complex', "The user's manager.", {
      subAttributes: [
        str('value', 'The id of the SCIM resource representing the manager.'),
        attr('$ref', 'reference', 'The URI of the manager.', { referenceTypes: ['User'] }),
        str('displayName', 'The display name of the manager.', { mutability: 'readOnly' }),
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
      'The name of a role of the workspace (compared ignoring case); unknown names are 400 invalidValue. Not sent: unchanged (on create: the default role).',
    ),
    str(
      'location',
      'The name of a location of the workspace (compared ignoring case); unknown names are 400 invalidValue.',
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
    }),
    str('externalId', "The identity provider's identifier for the group.", { caseExact: true }),
    attr('members', 'complex', 'The users in the group (nested groups are not supported).', {
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
    }),
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
