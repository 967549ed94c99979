import { ScimError } from '../../lib/errors.js';
import { trimTrailingSlashes } from '../../lib/text.js';
import { LIST_RESPONSE, RESOURCE_TYPE, SCHEMA, SERVICE_PROVIDER_CONFIG } from './urns.js';
import {
  RESOURCE_TYPES,
  SCHEMAS,
  SERVICE_PROVIDER_FEATURES,
  served,
  type ScimResourceType,
  type ScimSchema,
} from './model.js';

export type ScimJson = Record<string, unknown>;

/** The SCIM base URL of this service, such as https://provision.example.com/scim/v2. */
export const scimBase = (publicUrl: string): string => `${trimTrailingSlashes(publicUrl)}/scim/v2`;

/** A ListResponse holding every resource (discovery collections are never paged). */
export function listResponse(resources: ScimJson[]): ScimJson {
  return {
    schemas: [LIST_RESPONSE],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}

export function serviceProviderConfig(publicUrl: string): ScimJson {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG],
    ...SERVICE_PROVIDER_FEATURES,
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'A Loopit workspace API token with the scim scope, sent as "Authorization: Bearer <token>".',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${scimBase(publicUrl)}/ServiceProviderConfig`,
    },
  };
}

const renderResourceType = (type: ScimResourceType, publicUrl: string): ScimJson => ({
  schemas: [RESOURCE_TYPE],
  ...type,
  meta: { resourceType: 'ResourceType', location: `${scimBase(publicUrl)}/ResourceTypes/${type.id}` },
});

const renderSchema = (schema: ScimSchema, publicUrl: string): ScimJson => ({
  schemas: [SCHEMA],
  ...schema,
  attributes: schema.attributes.map(served),
  meta: { resourceType: 'Schema', location: `${scimBase(publicUrl)}/Schemas/${schema.id}` },
});

export const listResourceTypes = (publicUrl: string): ScimJson =>
  listResponse(RESOURCE_TYPES.map((t) => renderResourceType(t, publicUrl)));

export const listSchemas = (publicUrl: string): ScimJson =>
  listResponse(SCHEMAS.map((s) => renderSchema(s, publicUrl)));

// Resource type names and schema URNs are matched ignoring case, as SCIM attribute names are.
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function getResourceType(publicUrl: string, id: string): ScimJson {
  const type = RESOURCE_TYPES.find((t) => same(t.id, id));
  if (!type) {
    throw new ScimError(
      404,
      undefined,
      `No resource type '${id}'; this service has: ${RESOURCE_TYPES.map((t) => t.id).join(', ')}.`,
    );
  }
  return renderResourceType(type, publicUrl);
}

export function getSchema(publicUrl: string, id: string): ScimJson {
  const schema = SCHEMAS.find((s) => same(s.id, id));
  if (!schema) {
    throw new ScimError(
      404,
      undefined,
      `No schema '${id}'; this service has: ${SCHEMAS.map((s) => s.id).join(', ')}.`,
    );
  }
  return renderSchema(schema, publicUrl);
}

/** RFC 7644 §4: these endpoints take no filter, and SHOULD say so with 403 rather than ignore it. */
export function refuseFilter(filter: string | undefined, endpoint: string): void {
  if (filter !== undefined) {
    throw new ScimError(403, undefined, `${endpoint} does not support filtering; request it without filter.`);
  }
}
