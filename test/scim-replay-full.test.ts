import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { flowRunner, loadFlow, loadWorkspace, type FlowStep, type Replay } from './support/scim-replay.js';

/*
 * Whole provisioning lifecycles as Okta and Microsoft Entra ID send them (fixtures/scim/*-full and
 * generic-client, see fixtures/scim/README.md), each step judged by the state it leaves: the user or
 * group read back over SCIM and the user as the REST API reports it (role, location, status, names).
 */

const PUBLIC_URL = 'https://provision.example.com';
const BASE = `${PUBLIC_URL}/scim/v2`;
const ctx = useTestContext({ PUBLIC_URL });
const run = flowRunner(() => ctx.app, BASE);

/** Replays fixtures/scim/<flow>/ in a workspace made as its workspace.json says, one test per step. */
function replayFlow(flow: string, firstCreate: string): void {
  const steps = loadFlow(flow) as { file: string; step: FlowStep }[];
  const setup = loadWorkspace(flow);
  const replay: Replay = {
    token: '',
    vars: { ...setup.vars, baseUrl: BASE },
    captures: { [firstCreate]: 'id' },
    versions: new Map(),
  };
  let restToken = '';

  beforeAll(async () => {
    const ws = await makeWorkspace(ctx.db, {
      roles: setup.roles,
      locations: setup.locations,
      ...(setup.defaultRole ? { defaultRole: setup.defaultRole } : {}),
    });
    restToken = ws.token;
    replay.token = await makeToken(ctx.db, ws.workspaceId, ['scim']);
    if (setup.settings) {
      const res = await call(ctx.app, 'PATCH', '/v1/settings', { token: ws.token, body: setup.settings });
      expect(res.status, `workspace settings ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  for (const { file, step } of steps) {
    it(`${file}: ${step.method} ${step.path}`, async () => {
      await run(replay, restToken, file, step);
    });
  }
}

describe('Microsoft Entra ID: a user from creation to re-enabling, with app role, manager and full sync', () => {
  replayFlow('entra-full', '03-create-user.json');
});

describe('Okta: a user from assignment to reactivation, with a new location and group push', () => {
  replayFlow('okta-full', '02-create-user.json');
});

describe('A generic SCIM client that builds its requests from /Schemas', () => {
  replayFlow('generic-client', '01-create-username-only.json');
});

describe('Locations the identity provider sends', () => {
  const create = (loadFlow('okta-full') as { file: string; step: FlowStep }[]).find(
    (f) => f.file === '02-create-user.json',
  )!;
  const LOOPIT = 'urn:ietf:params:scim:schemas:extension:loopit:2.0:User';
  const oktaCreate = (userName: string, location: string): Record<string, unknown> => {
    const body = JSON.parse(JSON.stringify(create.step.body).replaceAll('{{userName}}', userName)) as Record<
      string,
      unknown
    >;
    // Each user its own externalId, as Okta's are.
    return { ...body, externalId: `okta-${userName}`, [LOOPIT]: { location } };
  };
  const locations = async (token: string): Promise<string[]> => {
    const res = await call(ctx.app, 'GET', '/v1/locations?limit=1000', { token });
    expect(res.status).toBe(200);
    return (res.body.data as { name: string }[]).map((l) => l.name).sort();
  };

  it('a known location sent in another case and with spaces is that location; none is created', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['London'] });
    const scim = await makeToken(ctx.db, ws.workspaceId, ['scim']);
    const res = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token: scim,
      body: oktaCreate('case.user@example.com', '  LONDON '),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const user = await call(ctx.app, 'GET', `/v1/users/${res.body.id}`, { token: ws.token });
    expect(user.body.location).toMatchObject({ name: 'London' });
    expect(await locations(ws.token)).toEqual(['London']);
  });

  it('with scimCreatesLocations off, an unknown location is 400 invalidValue naming the known ones, and nothing is created', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['London', 'Leeds'] });
    const scim = await makeToken(ctx.db, ws.workspaceId, ['scim']);
    const defaults = await call(ctx.app, 'GET', '/v1/settings', { token: ws.token });
    expect(defaults.body).toMatchObject({ scimCreatesLocations: true });
    const off = await call(ctx.app, 'PATCH', '/v1/settings', {
      token: ws.token,
      body: { scimCreatesLocations: false },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toMatchObject({ scimCreatesLocations: false });
    const res = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token: scim,
      body: oktaCreate('off.user@example.com', 'Manchester'),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(res.body.detail).toMatch(/Leeds/);
    expect(res.body.detail).toMatch(/London/);
    expect(await locations(ws.token)).toEqual(['Leeds', 'London']);
    const users = await call(ctx.app, 'GET', '/scim/v2/Users', { token: scim });
    expect(users.body.totalResults).toBe(0);
  });

  it('a location created over SCIM is in the workspace’s locations, and the next user with it reuses it', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin'], locations: ['London'] });
    const scim = await makeToken(ctx.db, ws.workspaceId, ['scim']);
    const first = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token: scim,
      body: oktaCreate('first.york@example.com', 'York'),
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await call(ctx.app, 'POST', '/scim/v2/Users', {
      token: scim,
      body: oktaCreate('second.york@example.com', 'york'),
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(await locations(ws.token)).toEqual(['London', 'York']);
    for (const id of [first.body.id, second.body.id]) {
      const user = await call(ctx.app, 'GET', `/v1/users/${id}`, { token: ws.token });
      expect(user.body.location).toMatchObject({ name: 'York' });
    }
  });
});
