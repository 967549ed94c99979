import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/db/index.js';
import type { Scope } from '../../src/db/tables.js';
import { createToken } from '../../src/auth/tokens.service.js';
import { createWorkspace, type NewWorkspace } from '../../src/users/workspaces.service.js';
import { call } from './context.js';

let counter = 0;

/** A workspace with roles Admin and Customer Success, location London, and an all-scope token. */
export async function makeWorkspace(db: Db, overrides: Partial<NewWorkspace> = {}) {
  counter += 1;
  return createWorkspace(db, {
    name: `Workspace ${counter}`,
    roles: ['Admin', 'Customer Success'],
    locations: ['London'],
    ...overrides,
  });
}

export async function makeToken(db: Db, workspaceId: string, scopes: Scope[]): Promise<string> {
  return (await createToken(db, workspaceId, scopes)).token;
}

let people = 0;

/**
 * A user made through POST /v1/users (the engine, its journal and invitation included): a unique
 * name and e-mail, role Customer Success (makeWorkspace's), unless `overrides` say otherwise. Answers
 * the call, so a test can look at a refusal too.
 */
export function makeUser(app: FastifyInstance, token: string, overrides: Record<string, unknown> = {}) {
  people += 1;
  return call(app, 'POST', '/v1/users', {
    token,
    body: {
      name: `Person ${people}`,
      email: `person${people}@example.com`,
      role: 'Customer Success',
      ...overrides,
    },
  });
}

/** A role made through POST /v1/roles (an admin token); answers the call. */
export function makeRole(app: FastifyInstance, token: string, name: string, rank?: number) {
  return call(app, 'POST', '/v1/roles', { token, body: { name, ...(rank === undefined ? {} : { rank }) } });
}
