import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';

/*
 * The provisioning log: every SCIM write is an audit event (token prefix, operation, user or group,
 * changed attributes, result), refused writes included, readable at GET /v1/audit with filters.
 */

const ctx = useTestContext({ PUBLIC_URL: 'https://provision.example.com' });
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let ws: { workspaceId: string; token: string };
let scimToken: string;
let prefix: string;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
  scimToken = await makeToken(ctx.db, ws.workspaceId, ['scim']);
  prefix = scimToken.split('_').slice(0, 2).join('_');
});

const scim = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  call(ctx.app, method, `/scim/v2${url}`, {
    token: scimToken,
    ...(body !== undefined ? { body } : {}),
    headers: { 'content-type': 'application/scim+json' },
  });

const audit = async (query: string) => {
  const res = await call(ctx.app, 'GET', `/v1/audit?${query}`, { token: ws.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as Record<string, any>[];
};

const userBody = (userName: string) => ({
  schemas: [CORE_USER],
  userName,
  name: { givenName: 'Audit', familyName: 'Trail' },
  active: true,
});

describe('SCIM writes in the provisioning log', () => {
  it('records a create and a deactivation with the token prefix, the operation and the changes', async () => {
    const created = await scim('POST', '/Users', userBody('audited@example.com'));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    const events = await audit(`userId=${id}`);
    expect(events.map((e) => e.action)).toEqual(['user.deactivated', 'user.created']);
    expect(events[1]).toMatchObject({
      actor: prefix,
      source: 'scim',
      targetType: 'user',
      targetId: id,
      changes: { email: { from: null, to: 'audited@example.com' } },
      details: { operation: 'POST /scim/v2/Users' },
    });
    expect(events[0]).toMatchObject({
      changes: { status: { from: 'active', to: 'deactivated' } },
      details: { operation: 'PATCH /scim/v2/Users/:id' },
    });
  });

  it('records refused writes with the answer the identity provider got', async () => {
    await scim('POST', '/Users', userBody('twice@example.com'));
    const again = await scim('POST', '/Users', userBody('TWICE@example.com'));
    expect(again.status).toBe(409);
    const missing = '0190a3c4-0000-7000-8000-0000000000aa';
    expect(
      (
        await scim('PATCH', `/Users/${missing}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', value: { active: false } }],
        })
      ).status,
    ).toBe(404);
    const refused = await audit('action=scim.rejected');
    expect(refused[1]).toMatchObject({
      actor: prefix,
      source: 'scim',
      targetType: 'user',
      targetId: null,
      changes: null,
      details: {
        operation: 'POST /scim/v2/Users',
        userName: 'TWICE@example.com',
        status: 409,
        scimType: 'uniqueness',
      },
    });
    expect(refused[1]!.details.detail).toEqual(expect.any(String));
    expect(refused[0]).toMatchObject({
      targetId: missing,
      userId: missing,
      details: { status: 404, operation: 'PATCH /scim/v2/Users/:id' },
    });
  });

  it('records group changes and the roles they moved; filters by source, actor, target type and target', async () => {
    const user = await scim('POST', '/Users', userBody('grouped@example.com'));
    const group = await scim('POST', '/Groups', {
      schemas: [CORE_GROUP],
      displayName: 'Audited',
      members: [],
    });
    const groupId = group.body.id as string;
    await scim('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: user.body.id }] }],
    });
    const groupEvents = await audit(`targetType=group&targetId=${groupId}`);
    expect(groupEvents.map((e) => e.action)).toEqual(['group.updated', 'group.created']);
    expect(groupEvents[0]).toMatchObject({
      details: { operation: 'PATCH /scim/v2/Groups/:id', membersAdded: 1, addedUserIds: [user.body.id] },
    });
    const moved = await audit(`userId=${user.body.id as string}&action=user.role_changed`);
    expect(moved[0]).toMatchObject({
      details: { reason: 'group_membership', groupId, groupName: 'Audited' },
    });

    const bySource = await audit('source=scim&limit=1000');
    expect(bySource.length).toBeGreaterThan(5);
    expect(bySource.every((e) => e.source === 'scim')).toBe(true);
    expect((await audit(`actor=${prefix}&limit=1000`)).length).toBe(bySource.length);
    expect(await audit('source=api')).toEqual([]);
    expect(await audit('actor=lp_nobody')).toEqual([]);
  });

  it('refuses an unknown target type with 400', async () => {
    const res = await call(ctx.app, 'GET', '/v1/audit?targetType=planet', { token: ws.token });
    expect(res.status).toBe(400);
  });
});
