import { promises as fs } from 'node:fs';
import http from 'node:http';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { adminQuery } from '../support/databases.js';
import {
  expectImportIntact,
  FAULT_ROWS,
  HANG_MS,
  kill,
  newWorkspace,
  type FaultEnv,
  type Service,
  until,
  untilMailed,
  untilTerminal,
  useFaultEnv,
  usersCsv,
} from './harness.js';

const env = useFaultEnv();

interface Answer {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body?: string;
  /** The connection failed before an answer (refused, reset). */
  error?: string;
}

/** A request whose body the test writes itself, so that a signal can land in the middle of it. */
function request(
  env: FaultEnv,
  method: string,
  pathname: string,
  headers: Record<string, string>,
): { req: http.ClientRequest; answer: Promise<Answer> } {
  const req = http.request({ host: '127.0.0.1', port: env.apiPort, method, path: pathname, headers });
  const answer = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
  });
  return { req, answer };
}

const spoolFiles = async (env: FaultEnv) =>
  (await fs.readdir(env.tmpDir)).filter((f) => f.startsWith('loopit-upload-'));

/** Backends of the API process that are inside a transaction (the upload staging its rows). */
async function apiStaging(database: string): Promise<boolean> {
  const { rows } = await adminQuery(
    `select 1 from pg_stat_activity where datname = $1 and application_name = 'loopit-provision-api'
     and xact_start is not null and query ilike '%import_rows%'`,
    [database],
  );
  return rows.length > 0;
}

/**
 * Acknowledged (202): the import completes after the restart, with every row once and every e-mail.
 * Not acknowledged: nothing staged and no spool file left.
 */
async function expectAcknowledgedOrNothing(
  env: FaultEnv,
  ws: { workspaceId: string; token: string },
  answer: Answer,
  prefix: string,
) {
  expect(await spoolFiles(env)).toEqual([]);
  if (answer.status === 202) {
    const id = (JSON.parse(answer.body!) as { id: string }).id;
    expect(await untilTerminal(env, id)).toBe('completed');
    await untilMailed(env, ws.workspaceId);
    await expectImportIntact(env, ws, id, FAULT_ROWS, prefix, new Set());
  } else {
    // A clean refusal: an error status with a body, or a connection that never got a response.
    expect(answer.status === undefined || answer.status >= 500).toBe(true);
    const { rows } = await sql<{
      n: number;
    }>`select (select count(*) from imports where workspace_id = ${ws.workspaceId})
      + (select count(*) from import_rows where workspace_id = ${ws.workspaceId}) as n`.execute(env.db);
    expect(rows[0]!.n).toBe(0);
  }
}

describe('the API gets SIGTERM during an upload', () => {
  let worker: Service;

  it(
    'while the body is still arriving: the upload is answered, and what was acknowledged completes',
    async () => {
      worker = await env.start('worker');
      const ws = await newWorkspace(env);
      const api = await env.start('api');
      const csv = Buffer.from(usersCsv('ub', FAULT_ROWS));
      const { req, answer } = request(env, 'POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'content-length': String(csv.length),
      });
      req.write(csv.subarray(0, csv.length >> 1));
      await until(async () => (await spoolFiles(env)).length > 0);
      api.child.kill('SIGTERM');
      // A new connection is refused at once; the one in flight goes on.
      await until(
        async () =>
          await env.api('/healthz').then(
            () => false,
            () => true,
          ),
      );
      req.end(csv.subarray(csv.length >> 1));
      const got = await answer;
      expect(await api.exited).toBe(0);
      console.info(`api-sigterm upload (body arriving): ${got.status ?? got.error}`);
      const restarted = await env.start('api');
      await expectAcknowledgedOrNothing(env, ws, got, 'ub');
      expect(await kill(restarted, 'SIGTERM')).toBe(0);
    },
    // A whole import and its e-mails, each waited for up to HANG_MS, as in the other fault files.
    HANG_MS * 2,
  );

  it(
    'while the rows are being staged: the same',
    async () => {
      const ws = await newWorkspace(env);
      const api = await env.start('api');
      const csv = Buffer.from(usersCsv('us', FAULT_ROWS));
      const { req, answer } = request(env, 'POST', '/v1/imports', {
        authorization: `Bearer ${ws.token}`,
        'content-type': 'text/csv',
        'content-length': String(csv.length),
      });
      req.end(csv);
      await until(() => apiStaging(env.databaseName), 60_000);
      api.child.kill('SIGTERM');
      const got = await answer;
      expect(await api.exited).toBe(0);
      console.info(`api-sigterm upload (staging): ${got.status ?? got.error}`);
      const restarted = await env.start('api');
      await expectAcknowledgedOrNothing(env, ws, got, 'us');
      expect(await kill(restarted, 'SIGTERM')).toBe(0);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS * 2,
  );
});

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK_OPS = 1000;

const bulkBody = (prefix: string) =>
  JSON.stringify({
    schemas: [BULK_REQUEST],
    Operations: Array.from({ length: BULK_OPS }, (_, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i}`,
      data: {
        schemas: [CORE],
        userName: `${prefix}-${i}@example.com`,
        name: { givenName: prefix, familyName: String(i) },
        emails: [{ value: `${prefix}-${i}@example.com`, primary: true }],
      },
    })),
  });

/** The Bulk's users were created exactly once, and its result is readable at GET /scim/v2/Bulk/{id}. */
async function expectBulkDoneOnce(
  env: FaultEnv,
  ws: { workspaceId: string; token: string },
  prefix: string,
  answer: Answer,
) {
  const staged = await env.db
    .selectFrom('scim_bulk_requests')
    .select(['id', 'status'])
    .where('workspace_id', '=', ws.workspaceId)
    .execute();
  expect(staged).toHaveLength(1);
  await until(async () => {
    const row = await env.db
      .selectFrom('scim_bulk_requests')
      .select('status')
      .where('id', '=', staged[0]!.id)
      .executeTakeFirstOrThrow();
    return row.status === 'done';
  });
  const { rows } = await sql<{ n: number; names: number }>`select count(*)::int as n,
      count(distinct lower(user_name))::int as names from users
    where workspace_id = ${ws.workspaceId} and user_name like ${`${prefix}-%`}`.execute(env.db);
  expect(rows[0]).toEqual({ n: BULK_OPS, names: BULK_OPS });

  // What the client holds: the BulkResponse itself, or the Location of the result.
  let result: { Operations: { status: string }[] } | undefined;
  if (answer.status === 200) result = JSON.parse(answer.body!) as typeof result;
  const location = answer.headers?.location;
  if (answer.status === 503) expect(location).toBe(`${env.publicUrl}/scim/v2/Bulk/${staged[0]!.id}`);
  const read = await env.api(`/scim/v2/Bulk/${staged[0]!.id}`, {
    headers: { authorization: `Bearer ${ws.token}` },
  });
  expect(read.status).toBe(200);
  const stored = (await read.json()) as { Operations: { status: string }[] };
  for (const r of [stored, ...(result ? [result] : [])]) {
    expect(r.Operations).toHaveLength(BULK_OPS);
    expect(r.Operations.every((op) => op.status === '201')).toBe(true);
  }
}

describe('the API gets SIGTERM during a SCIM Bulk request', () => {
  const send = (ws: { token: string }, prefix: string) => {
    const body = bulkBody(prefix);
    const { req, answer } = request(env, 'POST', '/scim/v2/Bulk', {
      authorization: `Bearer ${ws.token}`,
      'content-type': 'application/scim+json',
      'content-length': String(Buffer.byteLength(body)),
    });
    req.end(body);
    return answer;
  };
  const staged = async (workspaceId: string) =>
    (
      await env.db
        .selectFrom('scim_bulk_requests')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .execute()
    ).length > 0;

  it(
    'with a worker running: the operations run once and the result is readable',
    async () => {
      const worker = await env.start('worker');
      const ws = await newWorkspace(env);
      const api = await env.start('api');
      const answer = send(ws, 'bw');
      await until(() => staged(ws.workspaceId), 60_000);
      api.child.kill('SIGTERM');
      const got = await answer;
      expect(await api.exited).toBe(0);
      console.info(`api-sigterm bulk (worker running): ${got.status ?? got.error}`);
      expect([200, 503]).toContain(got.status);
      const restarted = await env.start('api');
      await expectBulkDoneOnce(env, ws, 'bw', got);
      expect(await kill(restarted, 'SIGTERM')).toBe(0);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS,
  );

  it(
    'with no worker free: the waiting client is told where the result will be, and it runs once later',
    async () => {
      const ws = await newWorkspace(env);
      const api = await env.start('api');
      const answer = send(ws, 'bn');
      await until(() => staged(ws.workspaceId), 60_000);
      api.child.kill('SIGTERM');
      const got = await answer;
      expect(await api.exited).toBe(0);
      console.info(`api-sigterm bulk (no worker): ${got.status ?? got.error}`);
      expect(got.status).toBe(503);
      expect(got.headers?.['retry-after']).toBeDefined();
      const worker = await env.start('worker');
      const restarted = await env.start('api');
      await expectBulkDoneOnce(env, ws, 'bn', got);
      expect(await kill(restarted, 'SIGTERM')).toBe(0);
      expect(await kill(worker, 'SIGTERM')).toBe(0);
    },
    HANG_MS,
  );
});
