import type { Db } from '../../src/db/index.js';
import type { Scope } from '../../src/db/tables.js';
import { createToken } from '../../src/auth/tokens.service.js';
import { createWorkspace, type NewWorkspace } from '../../src/users/workspaces.service.js';

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
