import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTemplate, databaseUrl, dropDatabase } from './support/databases.js';
import { root, runCli, startServer, waitFor, type Ran } from './support/processes.js';

/*
 * Okta's published SCIM 2.0 spec test (tools/okta-scim-spec.mjs, or the copy shared next to the
 * repository when there is one) against the compiled server started as in production.
 */

const shared = path.resolve(root, '../shared/tools/okta-scim-spec.mjs');
const tool = existsSync(shared) ? shared : path.join(root, 'tools/okta-scim-spec.mjs');

let database: string;
let server: ReturnType<typeof startServer>;
let base: string;
let token: string;

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function runTool(args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tool, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  database = await cloneTemplate();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = startServer({
    DATABASE_URL: databaseUrl(database),
    PORT: String(port),
    PUBLIC_URL: base,
    QUEUE_PREFIX: `{test-${database}}`,
    ROLE: 'api',
    LOG_LEVEL: 'silent',
  });
  await waitFor(async () => {
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  });
  const db = { DATABASE_URL: databaseUrl(database) };
  const ws = JSON.parse(
    (await runCli(['workspace', 'create', '--name', 'Okta spec', '--role', 'Member', '--json'], db)).stdout,
  ) as { workspaceId: string };
  const created = await runCli(
    ['token', 'create', '--workspace', ws.workspaceId, '--scope', 'scim', '--json'],
    db,
  );
  token = (JSON.parse(created.stdout) as { token: string }).token;
  // Okta's first step lists one existing user.
  const seeded = await fetch(`${base}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'seeded.user@example.com',
      name: { givenName: 'Seeded', familyName: 'User' },
      emails: [{ value: 'seeded.user@example.com', type: 'work', primary: true }],
      active: true,
    }),
  });
  expect(seeded.status).toBe(201);
});

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  if (database) await dropDatabase(database);
});

describe("Okta's SCIM 2.0 spec test", () => {
  it('passes every step against the started server', async () => {
    const ran = await runTool(['--base', `${base}/scim/v2`, '--token', token]);
    expect(ran.stdout, ran.stdout + ran.stderr).toMatch(/^12 passed, 0 failed$/m);
    expect(ran.stdout).not.toContain('FAIL');
    expect(ran.code).toBe(0);
  });
});
