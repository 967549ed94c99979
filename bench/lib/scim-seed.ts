import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { upload, type ImportView } from './api.js';
import { writeBenchFiles } from './csv.js';
import { pollImport } from './run.js';
import type { Stack } from './stack.js';

export interface Seed {
  users: number;
  /** Upload start to the import completed. */
  seconds: number;
  analyzed: boolean;
  /** One user id a line, for the scenarios that address users by id. */
  idsFile: string;
}

/**
 * Fills the stack's workspace with `users` users the way a customer would: the rows of bench/lib/csv.ts
 * (userName = e-mail = user<i>@bench.example.com) as a CSV import through the API, create mode,
 * sendInvites=false, run by the stack's worker. Then writes the users' ids to a file.
 */
export async function seedUsers(
  stack: Stack,
  client: pg.Client,
  opts: { users: number; dir: string; analyze: boolean; log: (line: string) => void },
): Promise<Seed> {
  const file = path.join(opts.dir, `seed-${opts.users}.csv`);
  await writeBenchFiles(file, opts.users);
  const t0 = performance.now();
  const res = await upload(stack.baseUrl, stack.token, file, { sendInvites: 'false' });
  if (res.status !== 202)
    throw new Error(`seed upload answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  const { view, outcome } = await pollImport(stack, res.body as ImportView, {
    t0,
    timeoutS: 1800,
    tag: 'seed',
    log: opts.log,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (outcome !== 'completed' || view.status !== 'completed' || view.counts.created !== opts.users)
    throw new Error(`seed import ${view.status}: ${JSON.stringify(view.counts)}`);

  const { rows } = await client.query<{ id: string }>(
    'select id from users where workspace_id = $1 and deleted_at is null',
    [stack.workspaceId],
  );
  if (rows.length !== opts.users) throw new Error(`seeded ${rows.length} users, expected ${opts.users}`);
  const idsFile = path.join(opts.dir, 'ids.txt');
  await writeFile(idsFile, `${rows.map((r) => r.id).join('\n')}\n`);
  if (opts.analyze) await client.query('analyze');
  return { users: opts.users, seconds, analyzed: opts.analyze, idsFile };
}

/**
 * Puts every seeded user into one new group through the API, 1,000 members per PATCH (the body limit
 * allows about 20,000), as an identity provider pushing a large group does. Returns its id and the time.
 */
export async function seedGroup(
  stack: Stack,
  idsFile: string,
  log: (line: string) => void,
): Promise<{ groupId: string; members: number; seconds: number }> {
  const ids = (await readFile(idsFile, 'utf8')).split('\n').filter(Boolean);
  const headers = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/scim+json' };
  const t0 = performance.now();
  const created = await fetch(`${stack.baseUrl}/scim/v2/Groups`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Everyone',
    }),
  });
  if (created.status !== 201)
    throw new Error(`group create answered ${created.status}: ${await created.text()}`);
  const groupId = ((await created.json()) as { id: string }).id;
  for (let i = 0; i < ids.length; i += 1000) {
    const res = await fetch(`${stack.baseUrl}/scim/v2/Groups/${groupId}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'add', path: 'members', value: ids.slice(i, i + 1000).map((value) => ({ value })) },
        ],
      }),
    });
    if (res.status !== 204) throw new Error(`member add answered ${res.status}: ${await res.text()}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`  group of ${ids.length} members in ${seconds.toFixed(1)} s`);
  return { groupId, members: ids.length, seconds };
}
