import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { allRows, multipart, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '5', IMPORT_MAX_ROWS: '50', IMPORT_MAX_BYTES: '20000' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };
const LOCATIONS = [
  'London',
  'Berlin',
  'Zürich',
  'São Paulo',
  'Paris',
  'Dublin',
  'Málaga',
  'Madrid',
  'Singapore',
  'Tokyo',
  'Moscow',
  'Osaka',
  'Dubai',
];

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Member', 'Admin'], locations: LOCATIONS });
});
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

describe('real exports from spreadsheet tools', () => {
  it.each([
    ['excel-semicolon-bom.csv', 'utf-8-bom', ';', 4, 'Zoë Müller'],
    ['google-sheets-aliases.csv', 'utf-8', ',', 5, 'Chris Taylor'],
    ['excel-legacy-windows1252.csv', 'windows-1252', ';', 4, 'Renée O’Connor'],
    ['utf16le-tab.csv', 'utf-16le', '\t', 4, '太郎 𠮷野'],
  ])('imports %s (%s, %j) with every row created', async (file, encoding, delimiter, rows, someName) => {
    const body = multipart([
      { name: 'file', file: fixture(file), filename: file, type: 'application/vnd.ms-excel' },
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports?mode=upsert',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ encoding, delimiter, totalRows: rows });
    const done = await waitForImport(ctx.app, ws.token, res.json().id);
    expect(done.status).toBe('completed');
    expect(done.counts.failed).toBe(0);
    const names = (await allRows(ctx.app, ws.token, done.id)).map((r) => r.name);
    expect(names).toContain(someName);
    expect(names.join('')).not.toContain('\uFFFD');
  });

  it('reports every-error.csv row by row with spreadsheet row numbers', async () => {
    const res = await upload(ctx.app, ws.token, fixture('every-error.csv'));
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.row, r.errorCode ?? r.status])).toEqual([
      [2, 'created'],
      [3, 'missing_email'],
      [4, 'invalid_email'],
      [5, 'invalid_email'],
      [7, 'missing_name'],
      [8, 'name_too_long'],
      [10, 'unknown_role'],
      [11, 'unknown_location'],
      [12, 'duplicate_in_file'],
      [13, 'malformed_row'],
      [14, 'created'],
      [15, 'created'],
      [16, 'malformed_row'],
    ]);
    expect(rows.find((r) => r.row === 14).name).toBe('Linus Benedict Torvalds');
    expect(done.status).toBe('completed_with_errors');
  });
});

describe('report.csv', () => {
  it('writes BOM, CRLF, the input delimiter and columns, the six columns, neutralised formulas; and uploads again', async () => {
    const res = await upload(ctx.app, ws.token, fixture('every-error.csv'), 'mode=upsert');
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    const report = await ctx.app.inject({
      method: 'GET',
      url: `/v1/imports/${done.id}/report.csv`,
      headers: { authorization: `Bearer ${ws.token}` },
    });
    expect(report.statusCode).toBe(200);
    expect(report.headers['content-type']).toContain('text/csv');
    const text = report.body;
    expect(text.startsWith('\uFEFF')).toBe(true);
    const lines = text.slice(1).split('\r\n');
    expect(lines[0]).toBe(
      'Email,First Name,Last Name,Role,Location,Notes,row,status,invitation,error_code,error_message,user_id',
    );
    expect(text).toContain(`'=HYPERLINK`);
    expect(lines.filter((l) => l.includes('unknown_role'))).toHaveLength(1);
    // The report goes back in: the six columns are ignored and the leading ' is removed.
    const again = await upload(ctx.app, ws.token, Buffer.from(report.rawPayload), 'mode=upsert');
    expect(again.status).toBe(202);
    expect(again.body.columns).toEqual(['Email', 'First Name', 'Last Name', 'Role', 'Location', 'Notes']);
    const second = await waitForImport(ctx.app, ws.token, again.body.id);
    const rows = await allRows(ctx.app, ws.token, second.id);
    expect(rows.filter((r) => r.status === 'unchanged').length).toBeGreaterThanOrEqual(3);
    const csv2 = (
      await ctx.app.inject({
        method: 'GET',
        url: `/v1/imports/${second.id}/report.csv`,
        headers: { authorization: `Bearer ${ws.token}` },
      })
    ).body;
    expect(csv2).toContain(`'=HYPERLINK`);
    expect(csv2).not.toContain(`''=HYPERLINK`);
  });

  it('serves a template that imports as is', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/v1/imports/template.csv',
      headers: { authorization: `Bearer ${ws.token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body.startsWith('\uFEFFemail,first name,last name,role,location,external id\r\n')).toBe(true);
    const imp = await upload(ctx.app, ws.token, Buffer.from(res.rawPayload), 'dryRun=true');
    const done = await waitForImport(ctx.app, ws.token, imp.body.id);
    expect(done.counts.failed).toBe(0);
  });
});

describe('limits and refusals', () => {
  it('answers 413 file_too_large while streaming, stating the limit', async () => {
    const big = `email,name\n${'x'.repeat(30_000)}\n`;
    const res = await upload(ctx.app, ws.token, big);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'file_too_large', limit: 20000 });
  });

  it('answers 413 too_many_rows and stages nothing', async () => {
    const csv = `email,name\n${Array.from({ length: 51 }, (_, i) => `m${i}@example.com,M`).join('\n')}\n`;
    const res = await upload(ctx.app, ws.token, csv);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'too_many_rows', limit: 50 });
    const rows = await ctx.db
      .selectFrom('import_rows')
      .select('email')
      .where('email', '=', 'm0@example.com')
      .execute();
    expect(rows).toEqual([]);
  });

  it('answers 422 with the columns that are missing', async () => {
    const res = await upload(ctx.app, ws.token, 'Role,Location\nAdmin,London\n');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('missing_columns');
    expect(res.body.error.missing).toEqual(['email', 'name']);
    expect(res.body.error.headers).toEqual(['Role', 'Location']);
  });

  it('answers 422 unterminated_quote naming the row', async () => {
    const res = await upload(ctx.app, ws.token, 'email,name\na@example.com,"Open\n');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('unterminated_quote');
  });

  it('answers 400 for an unknown option or a bad mode', async () => {
    expect((await upload(ctx.app, ws.token, 'email,name\n', 'dry_run=true')).body.error.code).toBe(
      'invalid_option',
    );
    expect((await upload(ctx.app, ws.token, 'email,name\n', 'mode=merge')).body.error.code).toBe(
      'invalid_option',
    );
  });
});

describe('Idempotency-Key', () => {
  const csv = 'email,name\nidem@example.com,Idem\n';
  it('replays the original import with 200 for the same bytes and options', async () => {
    const first = await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(202);
    const again = await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const count = await ctx.db
      .selectFrom('imports')
      .select('id')
      .where('workspace_id', '=', ws.workspaceId)
      .where('file_name', 'is', null)
      .execute();
    expect(count.filter((r) => r.id === first.body.id)).toHaveLength(1);
  });

  it('answers 409 idempotency_key_reused for another file or other options', async () => {
    await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'k-2' });
    expect(
      (await upload(ctx.app, ws.token, `${csv}x@example.com,X\n`, '', { 'idempotency-key': 'k-2' })).body
        .error.code,
    ).toBe('idempotency_key_reused');
    expect(
      (await upload(ctx.app, ws.token, csv, 'dryRun=true', { 'idempotency-key': 'k-2' })).body.error.code,
    ).toBe('idempotency_key_reused');
  });

  it('answers 409 idempotency_key_in_progress while the first request runs', async () => {
    await ctx.db
      .insertInto('idempotency_keys')
      .values({ workspace_id: ws.workspaceId, key: 'k-3', state: 'in_progress' })
      .execute();
    const res = await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'k-3' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('idempotency_key_in_progress');
  });

  it('stores nothing for a refused request, so the key can be used again', async () => {
    expect((await upload(ctx.app, ws.token, '', '', { 'idempotency-key': 'k-4' })).status).toBe(422);
    expect((await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'k-4' })).status).toBe(202);
  });

  it('is per workspace', async () => {
    const other = await makeWorkspace(ctx.db);
    const a = await upload(ctx.app, ws.token, csv, '', { 'idempotency-key': 'shared' });
    const b = await upload(ctx.app, other.token, csv, '', { 'idempotency-key': 'shared' });
    expect(b.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
  });
});

describe('imports and tenancy', () => {
  it('hides one workspace’s imports from another and needs the imports scope', async () => {
    const other = await makeWorkspace(ctx.db);
    const mine = await upload(ctx.app, ws.token, 'email,name\nt1@example.com,T\n');
    for (const path of ['', '/rows', '/report.csv']) {
      expect(
        (await call(ctx.app, 'GET', `/v1/imports/${mine.body.id}${path}`, { token: other.token })).status,
      ).toBe(404);
    }
    for (const action of ['cancel', 'retry', 'apply']) {
      expect(
        (await call(ctx.app, 'POST', `/v1/imports/${mine.body.id}/${action}`, { token: other.token })).status,
      ).toBe(404);
    }
    expect((await call(ctx.app, 'GET', '/v1/imports', { token: other.token })).body.data).toEqual([]);
    const usersOnly = await makeToken(ctx.db, ws.workspaceId, ['users']);
    expect((await upload(ctx.app, usersOnly, 'email,name\n')).status).toBe(403);
  });
});

describe('a byte-order mark the bytes do not keep', () => {
  const utf16 = (text: string, lone: number[]) => {
    const head = Buffer.from(`\ufeff${text}`, 'utf16le');
    // A lone high surrogate (0xD800) in the second row's name, then the rest of the row.
    return Buffer.concat([head, Buffer.from(lone), Buffer.from('x\n', 'utf16le')]);
  };

  it.each([
    [
      'UTF-16LE with a lone surrogate',
      utf16('email,name\nok@example.com,Ok\nbad@example.com,B', [0x00, 0xd8]),
    ],
    [
      'UTF-8 with a BOM and then invalid bytes',
      Buffer.concat([
        Buffer.from('\ufeffemail,name\nok@example.com,Ok\nbad@example.com,B', 'utf8'),
        Buffer.from([0xff, 0xfe, 0x0a]),
      ]),
    ],
  ])('%s is 422 invalid_csv naming the row, with nothing staged', async (_what, bytes) => {
    const before = await ctx.db
      .selectFrom('imports')
      .select(ctx.db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await upload(ctx.app, ws.token, bytes);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'invalid_csv', row: 3 });
    expect(res.body.error.message).toContain('byte-order mark');
    const after = await ctx.db
      .selectFrom('imports')
      .select(ctx.db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
