import { beforeAll, describe, expect, it } from 'vitest';
import { MODES, ROW_STATUSES } from '../src/api/imports.js';
import { EXAMPLE } from '../src/api/examples.js';
import { SCOPES } from '../src/auth/tokens.js';
import { makeWorkspace } from './support/factories.js';
import { multipart } from './support/imports.js';
import { call, useTestContext, type Call } from './support/context.js';

const ctx = useTestContext();

interface Media {
  schema?: Record<string, any>;
  example?: unknown;
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; schema: Record<string, any>; example?: unknown }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}

let doc: { info: { description: string }; paths: Record<string, Record<string, Operation>> };
const operations: [string, string, Operation][] = [];

const operation = (method: string, path: string): Operation => {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`the OpenAPI has no ${method} ${path}`);
  return op;
};
const successes = (op: Operation) => Object.keys(op.responses).filter((s) => /^[23]/.test(s));
const queryEnum = (method: string, path: string, name: string): unknown[] | undefined =>
  operation(method, path).parameters?.find((p) => p.in === 'query' && p.name === name)?.schema.enum;

beforeAll(async () => {
  doc = (await call(ctx.app, 'GET', '/docs/json')).body;
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) operations.push([method.toUpperCase(), path, op]);
});

describe('the OpenAPI at /docs/json', () => {
  it('links the rules of docs/api.md from its description', () => {
    expect(doc.info.description).toContain('docs/api.md');
  });

  it('gives every operation a summary, a description, a success response and an example', () => {
    for (const [method, path, op] of operations) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(op.description, where).toBeTruthy();
      expect(successes(op).length, where).toBeGreaterThan(0);
      expect(JSON.stringify(op), where).toMatch(/"examples?":/);
      for (const [status, response] of Object.entries(op.responses))
        expect(response.description, `${where} ${status}`).not.toBe('Default Response');
    }
  });

  it('describes every error answer in the error envelope of its front door', () => {
    for (const [method, path, op] of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const json = response.content?.['application/json'] ?? response.content?.['application/scim+json'];
        if (Number(status) < 400 || !json) continue;
        const schema = json.schema;
        const envelope = path.startsWith('/scim/') ? 'ScimError' : 'Error';
        expect(schema?.$ref, `${method} ${path} ${status}`).toBe(`#/components/schemas/${envelope}`);
      }
      expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['500']));
    }
  });

  it('describes the upload as 202 with a multipart file field, or a raw CSV body', () => {
    const upload = operation('POST', '/v1/imports');
    expect(successes(upload).sort()).toEqual(['200', '202']);
    const form = upload.requestBody?.content['multipart/form-data']?.schema;
    expect(form?.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(form?.required).toEqual(['file']);
    expect(form?.properties.mode.enum).toEqual([...MODES]);
    expect(upload.requestBody?.content['text/csv']?.schema).toMatchObject({ format: 'binary' });
  });

  it('shows unions of values as enums', () => {
    expect(queryEnum('POST', '/v1/imports', 'mode')).toEqual([...MODES]);
    expect(queryEnum('GET', '/v1/imports/{id}/rows', 'status')).toEqual([...ROW_STATUSES]);
    expect(queryEnum('GET', '/v1/users', 'status')).toEqual(['invited', 'active', 'deactivated']);
    const workspace = operation('GET', '/v1/workspace').responses['200']!.content!['application/json']!;
    expect(workspace.schema!.properties.scopes.items.enum).toEqual([...SCOPES]);
  });
});

describe('the OpenAPI against what the service answers', () => {
  let token: string;
  const ids: Record<string, string> = {};

  /** The example ids of the OpenAPI stand for the ones this test created. */
  const real = (example: unknown): unknown =>
    JSON.parse(
      Object.entries(ids).reduce(
        (text, [name, id]) => text.replaceAll(EXAMPLE[name as keyof typeof EXAMPLE], id),
        JSON.stringify(example),
      ),
    );

  /** Sends the operation's own request example and expects one of its documented success statuses. */
  async function replay(method: string, path: string, url = path, body?: unknown): Promise<Call> {
    const op = operation(method, path);
    const content = op.requestBody?.content;
    const example = content?.['application/json']?.example ?? content?.['application/scim+json']?.example;
    const res = await call(ctx.app, method, url, {
      token,
      ...(body !== undefined || example !== undefined ? { body: body ?? real(example) } : {}),
    });
    expect(successes(op), `${method} ${url}: ${JSON.stringify(res.body)}`).toContain(String(res.status));
    return res;
  }

  beforeAll(async () => {
    token = (await makeWorkspace(ctx.db)).token;
  });

  it('answers the REST examples with their documented statuses', async () => {
    const role = await replay('POST', '/v1/roles');
    await replay('PATCH', '/v1/roles/{id}', `/v1/roles/${role.body.id}`);
    await replay('GET', '/v1/roles');
    await replay('POST', '/v1/locations');
    await replay('GET', '/v1/locations');
    const user = await replay('POST', '/v1/users');
    ids.userId = user.body.id;
    await replay('GET', '/v1/users');
    await replay('GET', '/v1/users/{id}', `/v1/users/${ids.userId}`);
    await replay('PATCH', '/v1/users/{id}', `/v1/users/${ids.userId}`);
    await replay('POST', '/v1/users/bulk');
    await replay('POST', '/v1/users/{id}/invitation', `/v1/users/${ids.userId}/invitation`);
    const resend = await replay('POST', '/v1/invitations/resend');
    await replay('GET', '/v1/invitations/resend/{id}', `/v1/invitations/resend/${resend.body.id}`);
    await replay('GET', '/v1/settings');
    await replay('PATCH', '/v1/settings');
    await replay('GET', '/v1/audit');
    await replay('GET', '/v1/workspace');
    await replay('DELETE', '/v1/users/{id}', `/v1/users/${ids.userId}`);
  });

  it('answers uploads and import actions with their documented statuses', async () => {
    const file = 'email,name\r\nann.lee@example.com,Ann Lee\r\n';
    const send = (key: string) => {
      const form = multipart([
        { name: 'dryRun', value: 'true' },
        { name: 'file', file, filename: 'people.csv' },
      ]);
      return ctx.app.inject({
        method: 'POST',
        url: '/v1/imports',
        payload: form.payload,
        headers: { ...form.headers, authorization: `Bearer ${token}`, 'idempotency-key': key },
      });
    };
    const documented = successes(operation('POST', '/v1/imports'));
    const first = await send('openapi-1');
    expect(first.statusCode).toBe(202);
    expect((await send('openapi-1')).statusCode).toBe(200);
    expect(documented).toEqual(expect.arrayContaining(['200', '202']));
    const id = first.json<{ id: string }>().id;
    await replay('GET', '/v1/imports');
    await replay('GET', '/v1/imports/{id}', `/v1/imports/${id}`);
    await replay('GET', '/v1/imports/{id}/rows', `/v1/imports/${id}/rows`);
    await replay('GET', '/v1/imports/template.csv');
    await replay('GET', '/v1/imports/mappings');
    await replay('POST', '/v1/imports/{id}/cancel', `/v1/imports/${id}/cancel`);
    await replay('POST', '/v1/imports/{id}/retry', `/v1/imports/${id}/retry`);
  });

  it('accepts exactly the documented upload modes and row statuses', async () => {
    for (const mode of MODES) {
      const res = await call(ctx.app, 'POST', `/v1/imports?mode=${mode}&dryRun=true`, {
        token,
        body: 'email,name\r\nbea@example.com,Bea\r\n',
        headers: { 'content-type': 'text/csv' },
      });
      expect(res.status, mode).toBe(202);
    }
    const refused = await call(ctx.app, 'POST', '/v1/imports?mode=merge', {
      token,
      body: 'email,name\r\nbea@example.com,Bea\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(refused.body.error).toMatchObject({ code: 'invalid_option', field: 'mode' });

    const list = await call(ctx.app, 'GET', '/v1/imports', { token });
    const id = list.body.data[0].id as string;
    for (const status of ROW_STATUSES)
      expect((await call(ctx.app, 'GET', `/v1/imports/${id}/rows?status=${status}`, { token })).status).toBe(
        200,
      );
    const unknown = await call(ctx.app, 'GET', `/v1/imports/${id}/rows?status=done`, { token });
    expect(unknown.body.error.code).toBe('invalid_status');
  });

  it('answers the SCIM examples with their documented statuses', async () => {
    const user = await replay('POST', '/scim/v2/Users');
    ids.userId = user.body.id;
    await replay('GET', '/scim/v2/Users');
    await replay('POST', '/scim/v2/Users/.search');
    await replay('GET', '/scim/v2/Users/{id}', `/scim/v2/Users/${ids.userId}`);
    await replay('PATCH', '/scim/v2/Users/{id}', `/scim/v2/Users/${ids.userId}`);
    const group = await replay('POST', '/scim/v2/Groups');
    ids.roleId = group.body.id;
    await replay('PATCH', '/scim/v2/Groups/{id}', `/scim/v2/Groups/${ids.roleId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Support Leads EMEA' }],
    });
    await replay('DELETE', '/scim/v2/Groups/{id}', `/scim/v2/Groups/${ids.roleId}`);
    await replay('DELETE', '/scim/v2/Users/{id}', `/scim/v2/Users/${ids.userId}`);
    for (const path of ['/scim/v2/ServiceProviderConfig', '/scim/v2/ResourceTypes', '/scim/v2/Schemas'])
      await replay('GET', path);
  });
});
