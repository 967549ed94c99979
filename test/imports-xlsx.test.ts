import { sql } from 'kysely';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../src/imports/options.js';
import { purgeExpired } from '../src/imports/imports.repository.js';
import { acceptUpload } from '../src/imports/upload.service.js';
import { convertWorkbook } from '../src/imports/workbook.service.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { stagedState } from './support/hostile.js';
import { allRows, multipart, upload, waitForImport } from './support/imports.js';
import { handWorkbook, inlineRow, workbook, XLSX_TYPE } from './support/workbooks.js';

const ctx = useTestContext({ BATCH_SIZE: '5', IMPORT_MAX_ROWS: '50' });
// Started by the tests that need one: the others look at what an upload leaves before the worker runs.
const workers = useTestWorkers(ctx, { start: 'on-demand' });
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Member', 'Admin'], locations: ['Berlin', 'Paris'] });
});

const uploadXlsx = (bytes: Buffer, query = '', headers: Record<string, string> = {}) =>
  upload(ctx.app, ws.token, bytes, query, { 'content-type': XLSX_TYPE, ...headers });

const storedChunks = async (importId: string) =>
  Number(
    (
      await sql<{
        n: string;
      }>`select count(*) as n from import_workbooks where import_id = ${importId}`.execute(ctx.db)
    ).rows[0]!.n,
  );

const messy = () =>
  workbook([
    { name: 'Notes', rows: [['this sheet is hidden and is not read']], state: 'hidden' },
    {
      name: 'Team',
      rows: [
        [],
        ['E-mail', 'First Name', 'Last Name', 'Role', 'Branch', 'Start date'],
        [
          { text: 'ada@example.com', hyperlink: 'mailto:ada@example.com' },
          'Ada',
          { richText: [{ text: 'Love' }, { font: { bold: true }, text: 'lace' }] },
          'Admin',
          'Berlin',
          new Date(Date.UTC(2024, 0, 2)),
        ],
        [],
        [
          'grace@example.com',
          'Grace',
          'Hopper',
          { formula: '"Mem"&"ber"', result: 'Member' },
          'Paris',
          45000,
        ],
        ['not-an-email', 'No', 'Body', 'Member', 'Paris'],
        ['linus@example.com', 'Linus', 'T', 'Member', 'Paris', '', 'a note right of the table'],
      ],
    },
  ]);

describe('workbooks refused before anything is staged', () => {
  it.each([
    [
      'missing columns',
      () =>
        workbook([
          {
            name: 'S',
            rows: [
              ['Name', 'Role'],
              ['Ada', 'Admin'],
            ],
          },
        ]),
      422,
      'missing_columns',
      'no column for email',
    ],
    ['an empty sheet', () => workbook([{ name: 'S', rows: [] }]), 422, 'empty_file', 'no header row'],
    [
      'a declared size past IMPORT_MAX_ROWS',
      () =>
        handWorkbook(`<dimension ref="A1:B60"/><sheetData>${inlineRow(1, ['Email', 'Name'])}</sheetData>`),
      413,
      'too_many_rows',
      'more than 50 data rows',
    ],
    [
      'a Word document',
      () => handWorkbook('', { parts: { 'xl/workbook.xml': null, 'word/document.xml': '<w:document/>' } }),
      415,
      'unsupported_file_type',
      'a Word document (.docx)',
    ],
    [
      'a truncated workbook',
      async () => (await workbook([{ name: 'S', rows: [['Email', 'Name']] }])).subarray(0, 900),
      415,
      'unsupported_file_type',
      'damaged or incomplete',
    ],
    [
      'a header pointing at a shared string that is not there',
      () =>
        handWorkbook('<sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData>', {
          sharedStrings: ['Email'],
        }),
      422,
      'invalid_workbook',
      'shared string',
    ],
    [
      'a cell reference that is not a cell',
      () =>
        handWorkbook(
          '<sheetData><row r="1"><c r="1A" t="inlineStr"><is><t>Email</t></is></c></row></sheetData>',
        ),
      422,
      'invalid_workbook',
      "a cell reference '1A' that is not a cell in row 1",
    ],
    [
      'malformed sheet XML',
      () =>
        handWorkbook('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Email</is></c></row></sheetData>'),
      422,
      'invalid_workbook',
      'cannot be read',
    ],
  ])('%s', async (_name, make, status, code, message) => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    const res = await uploadXlsx(await make());
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toContain(message);
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });
});

describe('POST /v1/imports with an Excel workbook', () => {
  it('peeks at the header, answers 202 and leaves the conversion to a worker', async () => {
    const res = await uploadXlsx(await messy(), 'mode=upsert');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'queued',
      format: 'xlsx',
      sheet: 'Team',
      delimiter: ',',
      totalRows: 0,
      columns: ['E-mail', 'First Name', 'Last Name', 'Role', 'Branch', 'Start date'],
      mapping: {
        email: 'E-mail',
        givenName: 'First Name',
        familyName: 'Last Name',
        role: 'Role',
        location: 'Branch',
      },
    });
    expect(await storedChunks(res.body.id)).toBeGreaterThan(0);

    await workers.start();
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(done).toMatchObject({ status: 'completed_with_errors', totalRows: 4, processedRows: 4 });
    expect(done.counts).toMatchObject({ created: 2, failed: 2 });
    const rows = await allRows(ctx.app, ws.token, done.id);
    // Row numbers are the sheet's: the header is row 2, row 4 is blank and skipped.
    expect(rows.map((r) => [r.row, r.email, r.name, r.role, r.errorCode ?? r.status])).toEqual([
      [3, 'ada@example.com', 'Ada Lovelace', 'Admin', 'created'],
      [5, 'grace@example.com', 'Grace Hopper', 'Member', 'created'],
      [6, 'not-an-email', 'No Body', 'Member', 'invalid_email'],
      [7, null, null, null, 'malformed_row'],
    ]);
    expect(rows[3].errorMessage).toContain('column 7 where the header has 6 columns');
    expect(await storedChunks(done.id)).toBe(0);

    const report = await ctx.app.inject({
      method: 'GET',
      url: `/v1/imports/${done.id}/report.csv`,
      headers: { authorization: `Bearer ${ws.token}` },
    });
    const lines = report.body.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines[0]).toBe(
      'E-mail,First Name,Last Name,Role,Branch,Start date,row,status,invitation,error_code,error_message,user_id',
    );
    // Dates read as dates, numbers as Excel shows them.
    expect(lines[1]).toMatch(/^ada@example\.com,Ada,Lovelace,Admin,Berlin,2024-01-02,3,created,/);
    expect(lines[2]).toMatch(/^grace@example\.com,Grace,Hopper,Member,Paris,45000,5,created,/);
  });

  it('reads a workbook whose shared strings and workbook part come after the sheet (multipart, .xlsx declared as octet-stream)', async () => {
    await workers.start();
    const rows = [
      ['Email', 'Name', 'Location'],
      ...Array.from({ length: 12 }, (_, i) => [`s${i}@example.com`, `Streamed ${i}`, 'Paris']),
    ];
    const body = multipart([
      { name: 'mode', value: 'create' },
      {
        name: 'file',
        file: await workbook([{ name: 'Export', rows }], { streaming: true }),
        filename: 'people.xlsx',
        type: 'application/octet-stream',
      },
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ format: 'xlsx', sheet: 'Export', fileName: 'people.xlsx' });
    const done = await waitForImport(ctx.app, ws.token, res.json().id);
    expect(done).toMatchObject({ status: 'completed', totalRows: 12 });
    expect(done.counts.created).toBe(12);
  });

  it('reads inline strings, shared strings, cells without references and Excel escapes (_x0009_)', async () => {
    await workers.start();
    const sheet =
      '<sheetData>' +
      inlineRow(1, ['Email', 'Name'], true) +
      inlineRow(2, ['inline@example.com', 'In_x0009_line'], true) +
      '<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c></row>' +
      '</sheetData>';
    const bytes = await handWorkbook(sheet, { sharedStrings: ['shared@example.com', 'Shared Person'] });
    const res = await uploadXlsx(bytes);
    expect(res.status).toBe(202);
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.row, r.email, r.name])).toEqual([
      [2, 'inline@example.com', 'In\tline'],
      [3, 'shared@example.com', 'Shared Person'],
    ]);
  });

  it('previews as a dry run and applies without a second upload', async () => {
    await workers.start();
    const bytes = await workbook([
      {
        name: 'S',
        rows: [
          ['Email', 'Name'],
          ['dry1@example.com', 'Dry One'],
          ['dry2@example.com', 'Dry Two'],
        ],
      },
    ]);
    const res = await uploadXlsx(bytes, 'dryRun=true');
    const preview = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(preview).toMatchObject({
      status: 'completed',
      dryRun: true,
      totalRows: 2,
      counts: { created: 2 },
    });
    const users = await call(ctx.app, 'GET', '/v1/users?q=dry', { token: ws.token });
    expect(users.body.data).toHaveLength(0);
    const applied = await call(ctx.app, 'POST', `/v1/imports/${preview.id}/apply`, { token: ws.token });
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({ format: 'xlsx', sheet: 'S', totalRows: 2 });
    const done = await waitForImport(ctx.app, ws.token, applied.body.id);
    expect(done.counts.created).toBe(2);
  });

  it('replays an Idempotency-Key for the same workbook', async () => {
    const bytes = await workbook([
      {
        name: 'S',
        rows: [
          ['Email', 'Name'],
          ['idem@example.com', 'Idem'],
        ],
      },
    ]);
    const first = await uploadXlsx(bytes, '', { 'idempotency-key': 'xlsx-key-1' });
    const again = await uploadXlsx(bytes, '', { 'idempotency-key': 'xlsx-key-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });
});

describe('workbooks the worker cannot import', () => {
  it('fails the import with too_many_rows when the sheet holds more than its dimension says, deletes the workbook, and refuses a retry', async () => {
    await workers.start();
    const rows = Array.from({ length: 51 }, (_, i) =>
      inlineRow(i + 2, [`many${i}@example.com`, `Many ${i}`]),
    ).join('');
    const bytes = await handWorkbook(
      `<dimension ref="A1:B2"/><sheetData>${inlineRow(1, ['Email', 'Name'])}${rows}</sheetData>`,
    );
    const res = await uploadXlsx(bytes);
    expect(res.status).toBe(202);
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(done).toMatchObject({ status: 'failed', totalRows: 0, error: { code: 'too_many_rows' } });
    expect(done.error.message).toContain('more than 50 data rows');
    // The failure is journaled with the status it set, once: the import.failed event.
    const journal = await call(ctx.app, 'GET', `/v1/audit?targetType=import&targetId=${done.id}`, {
      token: ws.token,
    });
    expect(journal.body.data.map((e: any) => [e.action, e.source, e.details.error.code])).toEqual([
      ['import.failed', `csv:${done.id}`, 'too_many_rows'],
    ]);
    expect(await storedChunks(done.id)).toBe(0);
    expect((await allRows(ctx.app, ws.token, done.id)).length).toBe(0);
    const retry = await call(ctx.app, 'POST', `/v1/imports/${done.id}/retry`, { token: ws.token });
    expect(retry.status).toBe(409);
    expect(retry.body.error.message).toContain('upload it again');
  });

  it('fails a sync whose sheet has a header and no rows with sync_empty_file', async () => {
    await workers.start();
    const res = await uploadXlsx(await workbook([{ name: 'S', rows: [['Email', 'Name']] }]), 'mode=sync');
    expect(res.status).toBe(202);
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'sync_empty_file' } });
  });
});

/** Accepts a workbook through the upload service without enqueueing it, so no worker job races the test. */
async function acceptOnly(workspaceId: string, bytes: Buffer, query: Record<string, string> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xlsx-test-'));
  const file = path.join(dir, 'upload');
  await fs.writeFile(file, bytes);
  try {
    const { imp } = await acceptUpload(ctx.db, ctx.config, {
      workspaceId,
      actor: 'test',
      options: parseOptions(query),
      fileName: 'accepted.xlsx',
      spooled: { path: file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    });
    return imp;
  } finally {
    await fs.rm(dir, { recursive: true });
  }
}

describe('a stored workbook', () => {
  it('survives a cancel while queued, so a retry converts and runs it', async () => {
    await workers.start();
    const bytes = await workbook([
      {
        name: 'S',
        rows: [
          ['Email', 'Name'],
          ['late1@example.com', 'Late One'],
          ['late2@example.com', 'Late Two'],
        ],
      },
    ]);
    const imp = await acceptOnly(ws.workspaceId, bytes);
    const cancelled = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/cancel`, { token: ws.token });
    expect(cancelled.body.status).toBe('cancelled');
    expect(await storedChunks(imp.id)).toBeGreaterThan(0);
    const retried = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/retry`, { token: ws.token });
    expect(retried.status).toBe(202);
    const done = await waitForImport(ctx.app, ws.token, imp.id);
    expect(done).toMatchObject({ status: 'completed', totalRows: 2, counts: { created: 2 } });
    expect(await storedChunks(imp.id)).toBe(0);
  });

  it('is purged with the staged rows after the retention period', async () => {
    const other = await makeWorkspace(ctx.db);
    const imp = await acceptOnly(
      other.workspaceId,
      await workbook([{ name: 'S', rows: [['Email', 'Name']] }]),
    );
    await sql`update imports set status = 'cancelled', finished_at = now() - interval '40 days'
              where id = ${imp.id}`.execute(ctx.db);
    expect(await storedChunks(imp.id)).toBeGreaterThan(0);
    expect(await purgeExpired(ctx.db, 30)).toBeGreaterThanOrEqual(1);
    expect(await storedChunks(imp.id)).toBe(0);
  });
});

describe('convertWorkbook', () => {
  it('converts once when two workers run it at the same time', async () => {
    const other = await makeWorkspace(ctx.db);
    const bytes = await workbook([
      {
        name: 'S',
        rows: [
          ['Email', 'Name'],
          ...Array.from({ length: 30 }, (_, i) => [`twice${i}@example.com`, `Twice ${i}`]),
        ],
      },
    ]);
    const id = (await acceptOnly(other.workspaceId, bytes)).id;
    const [a, b] = await Promise.all([
      convertWorkbook(ctx.db, ctx.config, other.workspaceId, id),
      convertWorkbook(ctx.db, ctx.config, other.workspaceId, id),
    ]);
    expect([a.kind, b.kind].sort()).toEqual(['converted', 'none']);
    const staged = await sql<{ n: number; distinct_rows: number }>`
      select count(*)::int as n, count(distinct row_number)::int as distinct_rows
      from import_rows where import_id = ${id}`.execute(ctx.db);
    expect(staged.rows[0]).toEqual({ n: 30, distinct_rows: 30 });
    expect(await storedChunks(id)).toBe(0);
  });
});
