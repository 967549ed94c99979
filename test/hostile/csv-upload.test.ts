import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { UPLOAD_ERROR_CODES, stagedState } from '../support/hostile.js';
import { multipart } from '../support/imports.js';

/*
 * Hostile CSV uploads: whatever the bytes, the answer is 202 or a documented 4xx with a message, never
 * a 5xx, and a refused upload stages nothing (no import, no rows, no job).
 */
const MAX_BYTES = 16 * 1024 * 1024;
const ctx = useTestContext({ IMPORT_MAX_BYTES: String(MAX_BYTES), IMPORT_MAX_ROWS: '200' });
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
});

interface Answer {
  status: number;
  code?: string;
  message?: string;
}

async function send(body: Buffer, as: 'raw' | 'multipart'): Promise<Answer> {
  const form = as === 'multipart' ? multipart([{ name: 'file', file: body, filename: 'people.csv' }]) : null;
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/v1/imports',
    headers: {
      authorization: `Bearer ${ws.token}`,
      ...(form ? form.headers : { 'content-type': 'text/csv' }),
    },
    payload: form ? form.payload : body,
  });
  const json = res.body ? (JSON.parse(res.body) as { error?: { code: string; message: string } }) : {};
  return { status: res.statusCode, code: json.error?.code, message: json.error?.message };
}

/** Sends the bytes and checks the contract; returns the answer for case-specific checks. */
async function upload(body: Buffer, as: 'raw' | 'multipart' = 'raw'): Promise<Answer> {
  const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
  const answer = await send(body, as);
  expect(answer.status, JSON.stringify(answer)).toBeLessThan(500);
  if (answer.status === 202) return answer;
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(UPLOAD_ERROR_CODES).toContain(answer.code);
  expect(answer.message).toMatch(/\w+/);
  expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  return answer;
}

const csvToken = fc.constantFrom(
  'email',
  'name',
  'first name',
  'role',
  '"',
  '""',
  ',',
  ';',
  '\t',
  '|',
  '\n',
  '\r\n',
  '\r',
  ' ',
  'ann@example.com',
  'Ann Lee',
  'Zoë',
  '\uFEFF',
  '=cmd|"/c calc"!A1',
  "'; drop table users; --",
  '\u0085',
  '\u2028',
);

describe('POST /v1/imports with random bytes', () => {
  it('never answers 5xx to random bytes (raw body)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        await upload(Buffer.from(bytes));
      }),
      { numRuns: 60 },
    );
  });

  it('never answers 5xx to random bytes after a valid header (multipart)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        await upload(Buffer.concat([Buffer.from('email,name\n'), Buffer.from(bytes)]), 'multipart');
      }),
      { numRuns: 40 },
    );
  });

  it('never answers 5xx to CSV-ish text of quotes, delimiters and line ends', async () => {
    const text = fc.array(csvToken, { maxLength: 80 }).map((t) => t.join(''));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), text, async (withHeader, body) => {
        await upload(Buffer.from(withHeader ? `email,name,role\n${body}` : body));
      }),
      { numRuns: 80 },
    );
  });

  it('never answers 5xx to random Unicode text, in UTF-8 or UTF-16 with a BOM', async () => {
    const encodings = fc.constantFrom('utf8', 'utf16le', 'latin1');
    await fc.assert(
      fc.asyncProperty(encodings, fc.string({ unit: 'grapheme', maxLength: 200 }), async (encoding, body) => {
        const text = `email,name\n${body}`;
        const bytes =
          encoding === 'utf16le'
            ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
            : Buffer.from(text, encoding as BufferEncoding);
        await upload(bytes);
      }),
      { numRuns: 40 },
    );
  });
});

describe('POST /v1/imports with named hostile files', () => {
  const header = 'email,name\n';
  const people = (n: number, pad = '') =>
    Array.from({ length: n }, (_, i) => `p${i}@example.com,Person ${i}${pad}\n`).join('');

  it.each([
    ['a gzip file', gzipSync(Buffer.from(header + people(50)))],
    ['a zip (xlsx) file', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)])],
    ['a PNG', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 1)])],
    ['NUL bytes', Buffer.alloc(4096, 0)],
    ['random binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
  ])('refuses %s with 415 unsupported_file_type', async (_name, body) => {
    const answer = await upload(body);
    expect(answer).toMatchObject({ status: 415, code: 'unsupported_file_type' });
  });

  it('refuses a NUL byte past the first 8 KB (after the sniffed sample) with 422, not 500', async () => {
    const body = Buffer.concat([
      Buffer.from(header + people(150, ' Long-Surname'.repeat(5))),
      Buffer.from('x@example.com,N\0L\n'),
    ]);
    expect(body.length).toBeGreaterThan(8192);
    const answer = await upload(body);
    expect(answer).toMatchObject({ status: 422, code: 'invalid_csv' });
    expect(answer.message).toMatch(/NUL/);
  });

  it('refuses a NUL in a UTF-16 file past the first 8 KB with 422, not 500', async () => {
    const text = header + people(150, ' Long-Surname'.repeat(5)) + 'x@example.com,N\0L\n';
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const answer = await upload(body);
    expect(answer).toMatchObject({ status: 422, code: 'invalid_csv' });
  });

  it('reads invalid UTF-8 as Windows-1252 and accepts it', async () => {
    const body = Buffer.concat([
      Buffer.from(header),
      Buffer.from('ren\xe9e@example.com,Ren\xe9e \xc3\x28 \xed\xa0\x80 \xf0\x28\x8c\xbc\n', 'latin1'),
    ]);
    const answer = await upload(body);
    expect(answer.status).toBe(202);
  });

  it('refuses a 10 MB single field with 422 record_too_large', async () => {
    const body = Buffer.from(`${header}a@example.com,${'x'.repeat(10 * 1024 * 1024)}\n`);
    expect(await upload(body)).toMatchObject({ status: 422, code: 'record_too_large' });
  });

  it('refuses a 10 MB quoted field with 422 unterminated_quote', async () => {
    const body = Buffer.from(`${header}a@example.com,"${'x'.repeat(10 * 1024 * 1024)}\n`);
    expect(await upload(body)).toMatchObject({ status: 422, code: 'unterminated_quote' });
  });

  it('refuses 1,000,000 columns in the header with 422 record_too_large', async () => {
    const body = Buffer.from(`email,name${',c'.repeat(999_998)}\n${people(1)}`);
    expect(await upload(body)).toMatchObject({ status: 422, code: 'record_too_large' });
  });

  it('refuses a header of 1,000,000 empty columns with a 422', async () => {
    const body = Buffer.from(`${','.repeat(999_999)}\n${people(1)}`);
    const answer = await upload(body);
    expect(answer.status).toBe(422);
  });

  it('refuses 100,000 columns in a header that fits one record with 422 too_many_columns', async () => {
    // 40 MB of `,a` rows took 60 s and 2.8 GB of memory to stage before the column limit.
    const wide = ',a'.repeat(100_000);
    const body = Buffer.from(`email,name${wide}\n${people(20).replace(/\n/g, `${wide}\n`)}`);
    const answer = await upload(body);
    expect(answer).toMatchObject({ status: 422, code: 'too_many_columns' });
    expect(answer.message).toMatch(/100002 columns; an import reads at most 1000/);
  });

  it('accepts 1,000 columns, the limit', async () => {
    const wide = ',x'.repeat(998);
    expect(
      (await upload(Buffer.from(`email,name${wide}\n${people(3).replace(/\n/g, `${wide}\n`)}`))).status,
    ).toBe(202);
  });

  it('refuses an unterminated quote at the start with 422 unterminated_quote', async () => {
    const body = Buffer.from(`"email,name\n${people(5)}`);
    expect(await upload(body)).toMatchObject({ status: 422, code: 'unterminated_quote' });
  });

  it('refuses an unterminated quote at the end with 422 unterminated_quote', async () => {
    const body = Buffer.from(`${header}${people(5)}z@example.com,"Zed`);
    expect(await upload(body)).toMatchObject({ status: 422, code: 'unterminated_quote' });
  });

  it('refuses a BOM-only file with 422 empty_file', async () => {
    expect(await upload(Buffer.from([0xef, 0xbb, 0xbf]))).toMatchObject({ status: 422, code: 'empty_file' });
  });

  it('refuses a 0-byte file with 422 empty_file', async () => {
    expect(await upload(Buffer.alloc(0))).toMatchObject({ status: 422, code: 'empty_file' });
  });

  it('accepts a header-only file as an import of zero rows', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'text/csv' },
      payload: header,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ totalRows: 0 });
  });

  it('refuses more rows than IMPORT_MAX_ROWS with 413 too_many_rows', async () => {
    expect(await upload(Buffer.from(header + people(201)))).toMatchObject({
      status: 413,
      code: 'too_many_rows',
    });
  });

  it('refuses a body over IMPORT_MAX_BYTES with 413 file_too_large, raw and multipart', async () => {
    const body = Buffer.from(header + 'x'.repeat(MAX_BYTES));
    expect(await upload(body)).toMatchObject({ status: 413, code: 'file_too_large' });
    expect(await upload(body, 'multipart')).toMatchObject({ status: 413, code: 'file_too_large' });
  });
});

describe('injection through CSV cells', () => {
  it('stores SQL and formula payloads as text, row by row', async () => {
    const cells = [
      "o'brien@example.com,Robert'); DROP TABLE users;--",
      'x1@example.com,"=HYPERLINK(""http://evil"")"',
      'x2@example.com,"a""b\\"',
      'x3@example.com,%_\\%',
    ];
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'text/csv' },
      payload: `email,name\n${cells.join('\n')}\n`,
    });
    expect(res.statusCode).toBe(202);
    const rows = await ctx.db
      .selectFrom('import_rows')
      .select(['name'])
      .where('import_id', '=', res.json().id)
      .orderBy('idx')
      .execute();
    expect(rows.map((r) => r.name)).toEqual([
      "Robert'); DROP TABLE users;--",
      '=HYPERLINK("http://evil")',
      'a"b\\',
      '%_\\%',
    ]);
    const users = await ctx.db
      .selectFrom('users')
      .select(({ fn }) => fn.countAll().as('n'))
      .executeTakeFirst();
    expect(users).toBeDefined();
  });
});

describe('header cells named like prototype keys', () => {
  it('maps only the known columns when others are named constructor, __proto__ or toString', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'text/csv' },
      payload: 'email,name,constructor,__proto__,toString,prototype\na@example.com,A,1,2,3,4\n',
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().columns).toEqual([
      'email',
      'name',
      'constructor',
      '__proto__',
      'toString',
      'prototype',
    ]);
    const imp = await ctx.db
      .selectFrom('imports')
      .select('mapping')
      .where('id', '=', res.json().id)
      .executeTakeFirstOrThrow();
    expect(imp.mapping).toEqual({ email: 0, name: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('temporary files of refused multipart uploads', () => {
  let tmp: string;
  let saved: string | undefined;
  beforeAll(async () => {
    saved = process.env.TMPDIR;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hostile-spool-'));
    process.env.TMPDIR = tmp; // os.tmpdir() reads it on every call: the spool goes here
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await rm(tmp, { recursive: true, force: true });
  });

  it.each([
    ['a second file part', [{ name: 'other', file: 'x', filename: 'x.csv' }], 'unexpected_file'],
    ['an unknown option after the file', [{ name: 'dry_run', value: 'true' }], 'invalid_option'],
    ['a bad option value after the file', [{ name: 'mode', value: 'explode' }], 'invalid_option'],
  ] as const)('removes the spooled file when %s refuses the upload', async (_name, after, code) => {
    const form = multipart([
      { name: 'file', file: 'email,name\na@example.com,A\n', filename: 'p.csv' },
      ...after,
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(await readdir(tmp)).toEqual([]);
  });
});
