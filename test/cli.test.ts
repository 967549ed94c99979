import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTemplate, databaseUrl, dropDatabase } from './support/databases.js';
import { runCli } from './support/processes.js';

let name: string;
let env: Record<string, string>;

beforeAll(async () => {
  name = await cloneTemplate();
  env = { DATABASE_URL: databaseUrl(name) };
});
afterAll(async () => {
  await dropDatabase(name);
});

describe('cli workspace create', () => {
  it('prints one JSON line with the workspace id and a token, and nothing else on stdout', async () => {
    const ran = await runCli(
      [
        'workspace',
        'create',
        '--name',
        'Acme',
        '--role',
        'Admin',
        '--role',
        'Customer Success',
        '--location',
        'London',
        '--json',
      ],
      env,
    );
    expect(ran.code).toBe(0);
    const lines = ran.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]!) as { workspaceId: string; token: string };
    expect(parsed).toEqual({
      workspaceId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      token: expect.stringMatching(/^lp_/),
    });
    // The token has every scope, events included.
    const client = new pg.Client({ connectionString: databaseUrl(name) });
    await client.connect();
    try {
      const { rows } = await client.query<{ scopes: string[] }>(
        'select scopes from api_tokens where prefix = $1',
        [parsed.token.split('_').slice(0, 2).join('_')],
      );
      expect(rows[0]!.scopes).toEqual(['users', 'imports', 'scim', 'admin', 'events']);
    } finally {
      await client.end();
    }
  });

  it('prints to stderr only without --json', async () => {
    const ran = await runCli(['workspace', 'create', '--name', 'Quiet'], env);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(/workspace .* created/);
  });

  it('exits 2 with a clear message when --default-role is not among the roles', async () => {
    const ran = await runCli(
      ['workspace', 'create', '--name', 'X', '--role', 'A', '--default-role', 'B'],
      env,
    );
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("Default role 'B' is not among the roles given");
  });

  it('exits 2 when --name is missing', async () => {
    const ran = await runCli(['workspace', 'create'], env);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("required option '--name <name>' not specified");
  });
});

describe('cli token', () => {
  it('creates a token with the scopes asked for, then revokes it by prefix', async () => {
    const ws = JSON.parse((await runCli(['workspace', 'create', '--name', 'T', '--json'], env)).stdout) as {
      workspaceId: string;
    };
    const created = await runCli(
      [
        ...['token', 'create', '--workspace', ws.workspaceId],
        ...['--scope', 'scim', '--scope', 'imports', '--scope', 'events', '--json'],
      ],
      env,
    );
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { prefix: string; scopes: string[]; token: string };
    expect(token.scopes).toEqual(['scim', 'imports', 'events']);
    expect(token.token.startsWith(`${token.prefix}_`)).toBe(true);
    const revoked = await runCli(['token', 'revoke', token.prefix, '--json'], env);
    expect(JSON.parse(revoked.stdout)).toEqual({ prefix: token.prefix, status: 'revoked' });
    const again = await runCli(['token', 'revoke', token.prefix], env);
    expect(again.stderr).toContain('already revoked');
  });

  it.each([
    [
      ['token', 'create', '--workspace', '01a21f58-0000-7000-8000-000000000000', '--scope', 'root'],
      'unknown scope root',
    ],
    [['token', 'create', '--workspace', 'nope', '--scope', 'users'], 'must be a workspace id'],
    [
      ['token', 'create', '--workspace', '01a21f58-0000-7000-8000-000000000000', '--scope', 'users'],
      'no workspace with id',
    ],
    [['token', 'create', '--workspace', '01a21f58-0000-7000-8000-000000000000'], 'at least one --scope'],
    [['token', 'revoke', 'xyz'], 'is not a token prefix'],
    [['token', 'revoke', 'lp_aaaaaaaaaa'], 'no token with prefix'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('exits 2 for %j', async (args, message) => {
    const ran = await runCli(args, env);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(message);
    expect(ran.stdout).toBe('');
  });

  it('exits 2 naming the variable when the configuration is bad', async () => {
    const ran = await runCli(['migrate'], { ...env, PORT: 'many' });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('PORT: must be');
  });
});

describe('cli help and migrate', () => {
  it('prints help with exit 0', async () => {
    const ran = await runCli(['--help']);
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain('workspace');
    expect(ran.stderr).toContain('migrate');
  });

  it('reports an up-to-date database as JSON', async () => {
    const ran = await runCli(['migrate', '--json'], env);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ direction: 'up', migrations: [] });
  });
});
