import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDb, type Db } from '../src/db/index.js';
import discoveryRoutes from '../src/scim/routes/discovery.routes.js';
import { testConfig, call } from './support/context.js';
import { cloneTemplate, dropDatabase } from './support/databases.js';
import { makeToken, makeWorkspace } from './support/factories.js';

const BASE = 'https://provision.example.com';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = 'application/scim+json; charset=utf-8';

let app: FastifyInstance;
let db: Db;
let databaseName: string;
let scim: string;
let usersOnly: string;

beforeAll(async () => {
  databaseName = await cloneTemplate();
  const config = testConfig(databaseName, { PUBLIC_URL: BASE });
  db = createDb(config.databaseUrl, { max: 3 });
  app = await buildApp({ config, db, logger: false });
  // Until src/app.ts registers the discovery routes itself.
  if (!app.hasRoute({ method: 'GET', url: '/scim/v2/ServiceProviderConfig' }))
    await app.register(discoveryRoutes);
  await app.ready();
  const ws = await makeWorkspace(db);
  scim = await makeToken(db, ws.workspaceId, ['scim']);
  usersOnly = await makeToken(db, ws.workspaceId, ['users']);
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
  if (databaseName) await dropDatabase(databaseName);
});

const get = (url: string, token: string | null = scim) => call(app, 'GET', url, token ? { token } : {});

/** Every attribute definition carries the RFC 7643 §7 characteristics, sub-attributes included. */
function expectCharacteristics(attributes: any[], where: string): void {
  for (const a of attributes) {
    for (const key of [
      'name',
      'type',
      'multiValued',
      'description',
      'required',
      'caseExact',
      'mutability',
      'returned',
      'uniqueness',
    ]) {
      expect(a, `${where}.${a.name}`).toHaveProperty(key);
    }
    if (a.type === 'complex') expectCharacteristics(a.subAttributes, `${where}.${a.name}`);
  }
}

describe('GET /scim/v2/ServiceProviderConfig', () => {
  it('states truthfully what is supported, in application/scim+json', async () => {
    const res = await get('/scim/v2/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_JSON);
    expect(res.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 2097152 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        expect.objectContaining({ type: 'oauthbearertoken', name: 'OAuth Bearer Token', primary: true }),
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${BASE}/scim/v2/ServiceProviderConfig` },
    });
  });

  it('refuses a filter with 403, as RFC 7644 §4 asks', async () => {
    const res = await get('/scim/v2/ServiceProviderConfig?filter=patch.supported%20eq%20true');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '403' });
  });
});

describe('GET /scim/v2/ResourceTypes', () => {
  it('lists User (with its two extensions) and Group, and nothing that does not exist', async () => {
    const res = await get('/scim/v2/ResourceTypes');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_JSON);
    expect(res.body).toEqual({
      schemas: [LIST],
      totalResults: 2,
      itemsPerPage: 2,
      startIndex: 1,
      Resources: [
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
          id: 'User',
          name: 'User',
          endpoint: '/Users',
          description: 'User Account',
          schema: CORE_USER,
          schemaExtensions: [
            { schema: ENTERPRISE, required: false },
            { schema: LOOPIT, required: false },
          ],
          meta: { resourceType: 'ResourceType', location: `${BASE}/scim/v2/ResourceTypes/User` },
        },
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
          id: 'Group',
          name: 'Group',
          endpoint: '/Groups',
          description: 'Group (a Loopit role)',
          schema: CORE_GROUP,
          schemaExtensions: [],
          meta: { resourceType: 'ResourceType', location: `${BASE}/scim/v2/ResourceTypes/Group` },
        },
      ],
    });
  });

  it('returns one resource type by id, ignoring case, and 404 in the SCIM envelope for one it lacks', async () => {
    const user = await get('/scim/v2/ResourceTypes/user');
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ id: 'User', meta: { location: `${BASE}/scim/v2/ResourceTypes/User` } });
    const group = await get('/scim/v2/ResourceTypes/GROUP');
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ id: 'Group', endpoint: '/Groups' });
    const other = await get('/scim/v2/ResourceTypes/Device');
    expect(other.status).toBe(404);
    expect(other.headers['content-type']).toBe(SCIM_JSON);
    expect(other.body).toEqual({
      schemas: [ERROR],
      status: '404',
      detail: expect.stringContaining("No resource type 'Device'"),
    });
  });
});

describe('GET /scim/v2/Schemas', () => {
  it('lists core User, EnterpriseUser, the Loopit extension and core Group, in full', async () => {
    const res = await get('/scim/v2/Schemas');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_JSON);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 4, itemsPerPage: 4, startIndex: 1 });
    expect(res.body.Resources.map((s: any) => s.id)).toEqual([CORE_USER, ENTERPRISE, LOOPIT, CORE_GROUP]);
    for (const schema of res.body.Resources) {
      expect(schema.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema']);
      expect(schema.meta).toEqual({
        resourceType: 'Schema',
        location: `${BASE}/scim/v2/Schemas/${schema.id}`,
      });
      expectCharacteristics(schema.attributes, schema.name);
    }
  });

  it('describes the User attributes as the service treats them', async () => {
    const { body } = await get(`/scim/v2/Schemas/${CORE_USER}`);
    const attr = (name: string) => body.attributes.find((a: any) => a.name === name);
    expect(attr('userName')).toMatchObject({
      type: 'string',
      required: true,
      caseExact: false,
      uniqueness: 'server',
    });
    expect(attr('externalId')).toMatchObject({ type: 'string', caseExact: true });
    expect(attr('active')).toMatchObject({ type: 'boolean', mutability: 'readWrite' });
    expect(attr('groups')).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readOnly' });
    expect(attr('name').subAttributes.map((s: any) => s.name)).toEqual([
      'formatted',
      'familyName',
      'givenName',
      'middleName',
      'honorificPrefix',
      'honorificSuffix',
    ]);
    expect(attr('emails')).toMatchObject({ type: 'complex', multiValued: true });
    expect(attr('emails').subAttributes.map((s: any) => s.name)).toEqual([
      'value',
      'display',
      'type',
      'primary',
    ]);
    expect(attr('emails').subAttributes[2].canonicalValues).toEqual(['work', 'home', 'other']);
    for (const name of ['displayName', 'title', 'phoneNumbers', 'addresses', 'roles'])
      expect(attr(name), name).toBeDefined();
  });

  it('returns the extensions by URN, ignoring case', async () => {
    const enterprise = await get(`/scim/v2/Schemas/${ENTERPRISE.toLowerCase()}`);
    expect(enterprise.status).toBe(200);
    expect(enterprise.body.id).toBe(ENTERPRISE);
    expect(enterprise.body.attributes.map((a: any) => a.name)).toEqual([
      'employeeNumber',
      'costCenter',
      'organization',
      'division',
      'department',
      'manager',
    ]);
    const manager = enterprise.body.attributes.find((a: any) => a.name === 'manager');
    expect(manager.subAttributes.map((s: any) => s.name)).toEqual(['value', '$ref', 'displayName']);
    const loopit = await get(`/scim/v2/Schemas/${LOOPIT}`);
    expect(loopit.body.attributes).toEqual([
      expect.objectContaining({ name: 'role', type: 'string', caseExact: false, multiValued: false }),
      expect.objectContaining({ name: 'location', type: 'string', caseExact: false, multiValued: false }),
    ]);
  });

  it('describes the Group attributes: displayName required and unique, members of users', async () => {
    const { body } = await get(`/scim/v2/Schemas/${CORE_GROUP}`);
    const attr = (name: string) => body.attributes.find((a: any) => a.name === name);
    expect(attr('displayName')).toMatchObject({ type: 'string', required: true, uniqueness: 'server' });
    expect(attr('members')).toMatchObject({ type: 'complex', multiValued: true });
    expect(attr('members').subAttributes.map((s: any) => s.name)).toEqual([
      'value',
      '$ref',
      'display',
      'type',
    ]);
  });

  it('answers 404 for a schema it does not have', async () => {
    const res = await get('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Device');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '404' });
  });

  it('refuses a filter with 403', async () => {
    expect((await get('/scim/v2/Schemas?filter=id%20pr')).status).toBe(403);
    expect((await get('/scim/v2/ResourceTypes?filter=id%20pr')).status).toBe(403);
  });
});

describe('discovery authentication', () => {
  it.each([
    '/scim/v2/ServiceProviderConfig',
    '/scim/v2/ResourceTypes',
    '/scim/v2/Schemas',
    `/scim/v2/Schemas/${CORE_USER}`,
  ])(
    'answers %s with 401 in the SCIM envelope without a token, and 403 for a token without the scim scope',
    async (url) => {
      const anonymous = await get(url, null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['content-type']).toBe(SCIM_JSON);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(anonymous.body).toEqual({ schemas: [ERROR], status: '401', detail: expect.any(String) });
      const wrongScope = await get(url, usersOnly);
      expect(wrongScope.status).toBe(403);
      expect(wrongScope.headers['content-type']).toBe(SCIM_JSON);
      expect(wrongScope.body).toMatchObject({
        schemas: [ERROR],
        status: '403',
        detail: expect.stringContaining("'scim' scope"),
      });
    },
  );
});
