import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workbook } from './support/workbooks.js';
import { ProgressReporter } from '../src/cli/progress.js';
import type { Import } from '../src/api/imports.js';
import { cloneTemplate, databaseUrl, dropDatabase } from './support/databases.js';
import { root, runCli, startServer, waitFor } from './support/processes.js';

let dir: string;
let database: string;
let server: ReturnType<typeof startServer>;
let base: string;
let ws: { workspaceId: string; token: string };
let env: Record<string, string>;

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function csvFile(name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

const importCli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(['import', ...args], { ...env, ...extra });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'loopit-cli-import-'));
  database = await cloneTemplate();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = startServer({
    DATABASE_URL: databaseUrl(database),
    PORT: String(port),
    QUEUE_PREFIX: `{test-${database}}`,
    ROLE: 'all',
    LOG_LEVEL: 'silent',
  });
  await waitFor(async () => {
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  });
  const created = await runCli(
    ['workspace', 'create', '--name', 'Acme', '--role', 'Member', '--location', 'London', '--json'],
    { DATABASE_URL: databaseUrl(database) },
  );
  ws = JSON.parse(created.stdout);
  env = { LOOPIT_URL: base, LOOPIT_TOKEN: ws.token };
});

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  if (database) await dropDatabase(database);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cli import against the service', () => {
  it('exits 0 for a clean file, with the counts on stderr and nothing on stdout', async () => {
    const file = await csvFile(
      'clean.csv',
      'email,name,role,location\nann@example.com,Ann Lee,Member,London\nbo@example.com,Bo Ek,,\n',
    );
    const ran = await importCli([file, '--no-invites']);
    expect(ran.stderr).toMatch(/import \S+ accepted: 2 rows from clean\.csv \(mode create\)/);
    expect(ran.stderr).toMatch(/import \S+ completed: 2 rows/);
    expect(ran.stderr).toContain('created 2 · updated 0');
    expect(ran.stderr).toContain('failed 0');
    expect(ran.stdout).toBe('');
    expect(ran.code).toBe(0);
  });

  it('imports an Excel workbook: uploads it as .xlsx and reports the sheet and its row numbers', async () => {
    const file = path.join(dir, 'team.xlsx');
    await writeFile(
      file,
      await workbook([
        {
          name: 'Team',
          rows: [['Email', 'Name'], ['xl1@example.com', 'Excel One'], [], ['xl-two', 'Excel Two']],
        },
      ]),
    );
    const ran = await importCli([file, '--no-invites']);
    expect(ran.stderr).toMatch(/import \S+ accepted: sheet 'Team' of team\.xlsx/);
    expect(ran.stderr).toMatch(/import \S+ completed_with_errors: 2 rows/);
    expect(ran.stderr).toMatch(/row 4 {2}xl-two +invalid_email/);
    expect(ran.code).toBe(1);
  });

  it('exits 1 for a file with failing rows and lists each with its reason', async () => {
    const file = await csvFile(
      'broken.csv',
      'email,name,role\ncy@example.com,Cy,Member\nnot-an-email,Dee,Member\neve@example.com,Eve,Wizard\n',
    );
    const ran = await importCli([file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/completed_with_errors/);
    expect(ran.stderr).toContain('failed rows:');
    expect(ran.stderr).toMatch(/row 3 {2}not-an-email +invalid_email: \S+/);
    expect(ran.stderr).toMatch(/row 4 {2}eve@example\.com +unknown_role: .*Wizard/);
    expect(ran.stderr).toContain('error: 2 of 3 rows failed');
    expect(ran.stdout).toBe('');
  });

  it('prints one JSON object {import, failedRows} on stdout with --json', async () => {
    const file = await csvFile('json.csv', 'email,name\nfay@example.com,Fay\nbad-address,Gus\n');
    const ran = await importCli([file, '--json', '--mode', 'upsert']);
    expect(ran.code).toBe(1);
    const lines = ran.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out).sort()).toEqual(['failedRows', 'import']);
    expect(out.import).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'completed_with_errors',
      mode: 'upsert',
      fileName: 'json.csv',
      totalRows: 2,
      processedRows: 2,
      counts: { created: 1, failed: 1 },
    });
    expect(out.failedRows).toEqual([
      expect.objectContaining({ row: 3, email: 'bad-address', status: 'failed', errorCode: 'invalid_email' }),
    ]);
    expect(ran.stderr).toContain('error: 1 of 2 rows failed');
  });

  it('prints the first 100 failed rows and where to get the rest; --json pages through all', async () => {
    const bad = Array.from({ length: 1050 }, (_, i) => `bad-${i},Bad ${i}`).join('\n');
    const file = await csvFile('many.csv', `email,name\n${bad}\n`);
    const ran = await importCli([file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr.match(/^ {2}row /gm)).toHaveLength(100);
    expect(ran.stderr).toMatch(
      new RegExp(`… and 950 more failed rows; .* -o report\\.csv ${base}/v1/imports/\\S+/report\\.csv`),
    );
    const json = await importCli([file, '--json']);
    const out = JSON.parse(json.stdout);
    expect(out.failedRows).toHaveLength(1050);
    expect(new Set(out.failedRows.map((r: { row: number }) => r.row)).size).toBe(1050);
  });

  it('creates no users with --dry-run', async () => {
    const file = await csvFile('dry.csv', 'email,name\nhal@example.com,Hal\nivy@example.com,Ivy\n');
    const ran = await importCli([file, '--dry-run', '--json']);
    expect(ran.code).toBe(0);
    const out = JSON.parse(ran.stdout);
    expect(out.import).toMatchObject({ dryRun: true, status: 'completed', counts: { created: 2 } });
    expect(ran.stderr).toContain('dry run: nothing was written');
    const users = await fetch(`${base}/v1/users?limit=1000`, {
      headers: { authorization: `Bearer ${ws.token}` },
    });
    const emails = ((await users.json()) as { data: { email: string }[] }).data.map((u) => u.email);
    expect(emails).toContain('ann@example.com');
    expect(emails).not.toContain('hal@example.com');
    expect(emails).not.toContain('ivy@example.com');
  });

  it('import revert ID: a dry run changes nothing, then the revert deletes what the import created', async () => {
    const file = await csvFile(
      'to-undo.csv',
      'email,name\nundo1@example.com,Undo One\nundo2@example.com,Undo Two\n',
    );
    const imported = await importCli([file, '--no-invites', '--json']);
    expect(imported.code).toBe(0);
    const id = JSON.parse(imported.stdout).import.id as string;
    const users = async () =>
      (
        (await (
          await fetch(`${base}/v1/users?q=undo`, { headers: { authorization: `Bearer ${ws.token}` } })
        ).json()) as {
          data: unknown[];
        }
      ).data.length;

    const preview = await importCli(['revert', id, '--dry-run']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stderr).toContain(`of import ${id} started: 2 rows to undo (dry run: nothing changes)`);
    expect(preview.stderr).toMatch(/revert of import \S+: \S+ completed \(dry run\): 2 rows/);
    expect(preview.stderr).toContain('deleted 2 · restored 0');
    expect(await users()).toBe(2);

    const done = await importCli(['revert', id, '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).import).toMatchObject({
      kind: 'revert',
      revertOf: id,
      counts: { deleted: 2 },
    });
    expect(await users()).toBe(0);
    const again = await importCli(['revert', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('409 import_already_reverted');
    expect((await importCli([file, 'extra'])).stderr).toContain("unexpected argument 'extra'");
  });

  it('watches the original import when an --idempotency-key is replayed', async () => {
    const file = await csvFile('replay.csv', 'email,name\njay@example.com,Jay\n');
    const first = await importCli([file, '--idempotency-key', 'cli-replay', '--json']);
    const second = await importCli([file, '--idempotency-key', 'cli-replay', '--json']);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stderr).toContain('was already accepted under this idempotency key');
    expect(JSON.parse(second.stdout).import.id).toBe(JSON.parse(first.stdout).import.id);
  });

  it('exits 2 showing the API message when columns are missing (422)', async () => {
    const file = await csvFile('nocolumns.csv', 'name,role\nJo,Member\n');
    const ran = await importCli([file]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('422 missing_columns: The file has no column for email');
    expect(ran.stderr).toContain('missing columns: email');
    expect(ran.stdout).toBe('');
  });

  it('prints the headers and a ready-to-paste --map when columns are missing, and imports with it', async () => {
    const file = await csvFile('french.csv', 'Mail,Nom,Rolle\nkim@example.com,Kim Roux,Member\n');
    const refused = await importCli([file, '--no-invites']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('missing columns: givenName');
    expect(refused.stderr).toContain("the file's columns: Mail, Nom, Rolle");
    expect(refused.stderr).toContain('suggested: --map name=Nom');
    const mapped = await importCli([file, '--no-invites', '--map', 'name=Nom']);
    expect(mapped.code).toBe(0);
    expect(mapped.stderr).toMatch(/import \S+ completed: 1 rows/);
  });

  it('prints the warnings before the progress, and --ignore silences one', async () => {
    const file = await csvFile('jobrole.csv', 'Email,Name,Job role\nlou@example.com,Lou,Member\n');
    const ran = await importCli([file, '--no-invites', '--dry-run']);
    expect(ran.code).toBe(0);
    const warning = ran.stderr.indexOf("warning: column_not_used: The column 'Job role' is not read");
    expect(warning).toBeGreaterThan(ran.stderr.indexOf('accepted'));
    expect(warning).toBeLessThan(ran.stderr.indexOf('completed'));
    expect(ran.stderr).toContain(
      "warning: default_role_applied: No column gives roles: every row gets the workspace's default role 'Member'",
    );
    const ignored = await importCli([file, '--no-invites', '--dry-run', '--ignore', 'Job role']);
    expect(ignored.stderr).not.toContain('column_not_used');
    const read = await importCli([file, '--no-invites', '--dry-run', '--json', '--map', 'role=Job role']);
    expect(JSON.parse(read.stdout).import).toMatchObject({
      mapping: { role: 'Job role' },
      mappingSources: { role: 'explicit' },
      warnings: [],
    });
  });

  it('reads the --sheet of a workbook, and lists the sheets for an unknown one', async () => {
    const file = path.join(dir, 'sheets.xlsx');
    await writeFile(
      file,
      await workbook([
        {
          name: 'Read me',
          rows: [
            ['Email', 'Name'],
            ['readme@example.com', 'Read Me'],
          ],
        },
        {
          name: 'Staff',
          rows: [
            ['Email', 'Name'],
            ['staff@example.com', 'Staff One'],
          ],
        },
      ]),
    );
    const ran = await importCli([file, '--no-invites', '--dry-run', '--sheet', 'Staff']);
    expect(ran.code).toBe(0);
    expect(ran.stderr).toMatch(/accepted: sheet 'Staff' of sheets\.xlsx/);
    const unknown = await importCli([file, '--sheet', 'People']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('422 unknown_sheet');
    expect(unknown.stderr).toContain("the workbook's sheets: 'Read me', Staff");
  });

  it('exits 2 for a token the service refuses (401)', async () => {
    const file = await csvFile('any.csv', 'email,name\njo@example.com,Jo\n');
    const ran = await importCli([file, '--token', 'lp_aaaaaaaaaa_nope']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/401 \w+:/);
  });
});

describe('cli import refusals before the upload', () => {
  it.each([
    [['/no/such/file.csv'], {}, 'no file at /no/such/file.csv'],
    [['FILE'], { LOOPIT_TOKEN: '' }, 'no token: pass --token or set LOOPIT_TOKEN'],
    [['FILE', '--mode', 'merge'], {}, "argument 'merge' is invalid"],
    [['FILE', '--confirm-deactivations', 'ten'], {}, 'give a whole number of users'],
    [['FILE', '--base', 'not a url'], {}, '--base must be a URL'],
    [['FILE', '--map', 'email'], {}, '--map takes FIELD=HEADER'],
    [['FILE', '--map', 'mail=Mail'], {}, "'mail' is not a field"],
    [['FILE', '--map', 'email=A', '--map', 'email=B'], {}, '--map names email twice'],
  ])('exits 2 for %j', async (args, extra, message) => {
    const file = await csvFile('exists.csv', 'email,name\njo@example.com,Jo\n');
    const ran = await importCli(
      args.map((a) => (a === 'FILE' ? file : a)),
      extra,
    );
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(message);
    expect(ran.stdout).toBe('');
  });

  it('names CSV and Excel in import --help', async () => {
    const ran = await importCli(['--help']);
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain('upload a CSV or Excel (.xlsx) file');
    for (const flag of ['--map <field=header>', '--ignore <header>', '--sheet <name>'])
      expect(ran.stderr).toContain(flag);
  });

  it('exits 1 saying the service is unreachable at the base URL', async () => {
    const file = await csvFile('unreachable.csv', 'email,name\njo@example.com,Jo\n');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const ran = await importCli([file, '--base', closed]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`the service is unreachable at ${closed} (ECONNREFUSED)`);
  });
});

describe('cli import against a stub API', () => {
  const running: Import = {
    id: '01a21f58-0000-7000-8000-000000000001',
    status: 'processing',
    mode: 'upsert',
    dryRun: false,
    sendInvites: false,
    fileName: 'people.csv',
    format: 'csv',
    sheet: null,
    encoding: 'utf-8',
    delimiter: ',',
    columns: ['email', 'name'],
    mapping: { email: 'email', name: 'name' },
    mappingSources: { email: 'alias', name: 'alias' },
    warnings: [],
    totalRows: 1000,
    processedRows: 400,
    counts: {
      created: 390,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 10,
      deactivated: 0,
      deleted: 0,
      invited: 0,
    },
    kind: 'import',
    revertOf: null,
    revertedBy: null,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };

  async function stub(answer: (req: http.IncomingMessage, body: string) => [number, unknown]) {
    const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const api = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const [status, json] = answer(req, body);
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    return { url, seen, close: () => new Promise((resolve) => api.close(resolve)) };
  }

  it('streams the file with the options as query string, and Ctrl-C stops watching, not the import', async () => {
    const api = await stub((req) => [req.method === 'POST' ? 202 : 200, running]);
    try {
      const file = await csvFile('people.csv', 'email,name\njo@example.com,Jo\n');
      const child = spawn(
        process.execPath,
        [
          path.join(root, 'dist/src/cli.js'),
          'import',
          file,
          '--mode',
          'upsert',
          '--no-invites',
          '--default-role',
          'Member',
          '--confirm-deactivations',
          '3',
          '--idempotency-key',
          'k-1',
        ],
        { env: { PATH: process.env.PATH ?? '', LOOPIT_URL: api.url, LOOPIT_TOKEN: 'lp_t' }, stdio: 'pipe' },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await waitFor(() => stderr.includes('progress:') && api.seen.some((r) => r.method === 'GET'));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toContain('progress: 40% 400/1,000 rows');
      expect(stderr).toContain('created 390 · updated 0 · failed 10');
      expect(stderr).toContain(`stopped watching import ${running.id}`);
      expect(stderr).toContain(`GET ${api.url}/v1/imports/${running.id}`);
      const post = api.seen[0]!;
      expect(post.method).toBe('POST');
      const query = new URL(post.url!, api.url).searchParams;
      expect(Object.fromEntries(query)).toEqual({
        fileName: 'people.csv',
        mode: 'upsert',
        sendInvites: 'false',
        defaultRole: 'Member',
        confirmDeactivations: '3',
      });
      expect(post.headers).toMatchObject({
        'content-type': 'text/csv',
        'idempotency-key': 'k-1',
        authorization: 'Bearer lp_t',
        'transfer-encoding': 'chunked',
      });
      expect(post.body).toBe('email,name\njo@example.com,Jo\n');
    } finally {
      await api.close();
    }
  });

  it('Ctrl-C while the file is still uploading says how to find the import, by the key the upload carried', async () => {
    // A service that reads the request and never answers: the upload is still in flight at the Ctrl-C.
    const seen: http.IncomingHttpHeaders[] = [];
    const hanging = http.createServer((req) => {
      seen.push(req.headers);
      req.resume();
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    try {
      const file = await csvFile('slow.csv', 'email,name\njo@example.com,Jo\n');
      const child = spawn(process.execPath, [path.join(root, 'dist/src/cli.js'), 'import', file], {
        env: { PATH: process.env.PATH ?? '', LOOPIT_URL: url, LOOPIT_TOKEN: 'lp_t' },
        stdio: 'pipe',
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await waitFor(() => seen.length > 0);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const key = seen[0]!['idempotency-key'] as string;
      expect(key).toMatch(/^[0-9a-f-]{36}$/);
      expect(stderr).toContain('upload of slow.csv stopped before the service answered');
      expect(stderr).toContain(`run the same command with --idempotency-key ${key}`);
      expect(stderr).toContain(`GET ${url}/v1/imports`);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it('exits 1 with the API code and message on a 5xx', async () => {
    const api = await stub(() => [
      503,
      { error: { code: 'queue_unavailable', message: 'Try again shortly.', requestId: 'r-1' } },
    ]);
    try {
      const file = await csvFile('five.csv', 'email,name\njo@example.com,Jo\n');
      const ran = await importCli([file, '--base', api.url]);
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain('503 queue_unavailable: Try again shortly.');
      expect(ran.stderr).toContain('retry after 5 s');
    } finally {
      await api.close();
    }
  });
});

describe('ProgressReporter', () => {
  const imp = (processedRows: number): Import =>
    ({
      status: 'processing',
      totalRows: 200,
      processedRows,
      counts: { created: processedRows, updated: 0, failed: 0 },
    }) as Import;

  it('redraws one line with a bar, percentage, rate and counts on a terminal', () => {
    let written = '';
    let now = 0;
    const reporter = new ProgressReporter(
      { isTTY: true, columns: 200, write: (s: string) => (written += s) },
      () => now,
    );
    reporter.update(imp(0));
    now = 2000;
    reporter.update(imp(100));
    reporter.end();
    expect(written).toContain('\r[████████████░░░░░░░░░░░░] 50% 100/200 rows · 50 rows/s · created 100');
    expect(written.endsWith('\n')).toBe(true);
    expect(written.split('\n')).toHaveLength(2);
  });

  it('says a workbook is being read while its rows are not counted yet', () => {
    const lines: string[] = [];
    const reporter = new ProgressReporter({ isTTY: false, write: (s: string) => lines.push(s) }, () => 0);
    reporter.update({ ...imp(0), totalRows: 0, format: 'xlsx', sheet: 'Team' });
    reporter.end();
    expect(lines).toEqual(["progress: reading workbook sheet 'Team' into rows\n"]);
  });

  it('prints a plain line at most every two seconds elsewhere', () => {
    const lines: string[] = [];
    let now = 0;
    const reporter = new ProgressReporter({ isTTY: false, write: (s: string) => lines.push(s) }, () => now);
    for (const [at, rows] of [
      [0, 0],
      [1000, 50],
      [1900, 60],
      [2100, 80],
      [3000, 90],
    ] as const) {
      now = at;
      reporter.update(imp(rows));
    }
    reporter.end();
    expect(lines).toEqual([
      'progress: 0% 0/200 rows · – rows/s · created 0 · updated 0 · failed 0\n',
      'progress: 40% 80/200 rows · 38 rows/s · created 80 · updated 0 · failed 0\n',
    ]);
  });
});
