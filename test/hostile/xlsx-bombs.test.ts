import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { importJobId } from '../../src/queues/imports.js';
import { useTestContext, useTestWorkers } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { stagedState, watchHealth } from '../support/hostile.js';
import { upload, waitForImport } from '../support/imports.js';
import { handParts, inlineRow, XLSX_TYPE } from '../support/workbooks.js';
import { zip, type ZipEntry } from '../support/zip.js';

/*
 * Workbooks built to hurt: a few hundred kilobytes that inflate to hundreds of megabytes, hundreds of
 * thousands of entries, cells and format codes past Excel's own limits. Each is refused by its cap,
 * before the 202 where the API's peek meets it, else by the worker, which fails the import once and
 * for all; the API answers /healthz throughout and nothing is left half-written.
 */
const ctx = useTestContext({ IMPORT_MAX_BYTES: String(64 * 1_048_576) });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
});
const MiB = 1_048_576;
const HEADER =
  '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Name</t></is></c></row>';
const SST_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">';

/** The hand workbook's parts with some replaced by raw bytes. */
function bomb(sheetXml: string, parts: ZipEntry[]): Buffer {
  const replaced = new Set(parts.map((p) => p.name));
  const base = Object.entries(handParts(sheetXml))
    .filter(([name, text]) => text !== null && !replaced.has(name))
    .map(([name, text]) => ({ name, data: Buffer.from(text!) }));
  return zip([...base, ...parts]);
}

/** A shared-string table whose first string is `bytes` of `a`. */
const hugeSharedString = (bytes: number, declaredSize?: number): ZipEntry => ({
  name: 'xl/sharedStrings.xml',
  data: Buffer.concat([
    Buffer.from(`${SST_OPEN}<si><t>`),
    Buffer.alloc(bytes, 'a'),
    Buffer.from('</t></si><si><t>Email</t></si></sst>'),
  ]),
  ...(declaredSize === undefined ? {} : { declaredSize }),
});

const send = (bytes: Buffer) => upload(ctx.app, ws.token, bytes, '', { 'content-type': XLSX_TYPE });

async function expectRefused(bytes: Buffer, status: number, code: string) {
  const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
  const health = watchHealth(ctx.app);
  const res = await send(bytes);
  const slowest = await health.stop();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.limit).toBeGreaterThan(0);
  expect(slowest).toBeLessThan(1_000);
  expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
}

async function expectFailedByWorker(bytes: Buffer, code: string) {
  const health = watchHealth(ctx.app);
  const res = await send(bytes);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const done = await waitForImport(ctx.app, ws.token, res.body.id, 120_000);
  const slowest = await health.stop();
  expect(done).toMatchObject({ status: 'failed', totalRows: 0, error: { code } });
  expect(slowest).toBeLessThan(1_000);
  const { rows } = await sql<{ rows: number; chunks: number }>`
    select (select count(*)::int from import_rows where import_id = ${done.id}) as rows,
           (select count(*)::int from import_workbooks where import_id = ${done.id}) as chunks`.execute(
    ctx.db,
  );
  expect(rows[0]).toEqual({ rows: 0, chunks: 0 });
  // Failed for good: the job ended on its first attempt, and no other was made.
  const job = await ctx.app.queues.queue('imports').getJob(importJobId(done.id, 1));
  expect(job?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
  expect(await job?.getState()).toBe('completed');
}

describe('workbook bombs', { timeout: 180_000 }, () => {
  it('refuses a 300 MB shared string (a small compressed file) with 413 workbook_too_large', async () => {
    const bytes = bomb(`<sheetData>${HEADER}</sheetData>`, [hugeSharedString(300 * MiB)]);
    expect(bytes.length).toBeLessThan(2 * MiB);
    await expectRefused(bytes, 413, 'workbook_too_large');
  });

  it('refuses the same string under a declared size that lies, once it passes the longest value', async () => {
    const bytes = bomb(`<sheetData>${HEADER}</sheetData>`, [hugeSharedString(300 * MiB, 1_000)]);
    await expectRefused(bytes, 422, 'xml_value_too_long');
  });

  it('refuses a ZIP of 400,000 entries with 413 workbook_too_many_entries', async () => {
    const parts = Object.entries(handParts(`<sheetData>${HEADER}</sheetData>`)).map(([name, text]) => ({
      name,
      data: Buffer.from(text ?? ''),
    }));
    const filler = Array.from({ length: 400_000 }, (_, i) => ({ name: `x/${i}`, data: Buffer.alloc(0) }));
    await expectRefused(zip([...parts, ...filler]), 413, 'workbook_too_many_entries');
  });

  it('fails the import with xml_value_too_long for 300 MB of text in a row the API never reads', async () => {
    const sheet = Buffer.concat([
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
      ),
      Buffer.from(inlineRow(1, ['Email', 'Name'])),
      Buffer.from('<row r="2"><c r="A2" t="inlineStr"><is><t>'),
      Buffer.alloc(300 * MiB, 'b'),
      Buffer.from('</t></is></c></row></sheetData></worksheet>'),
    ]);
    await expectFailedByWorker(
      bomb('', [{ name: 'xl/worksheets/sheet1.xml', data: sheet }]),
      'xml_value_too_long',
    );
  });

  it('fails the import with cell_too_long for a cell of 40,000 characters', async () => {
    const long = 'x'.repeat(40_000);
    const bytes = bomb(
      `<sheetData>${inlineRow(1, ['Email', 'Name'])}${inlineRow(2, ['a@example.com', long])}</sheetData>`,
      [],
    );
    await expectFailedByWorker(bytes, 'cell_too_long');
  });

  it('fails the import with number_format_too_long for a format code of 100,000 unclosed brackets', async () => {
    const styles = `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="${'['.repeat(100_000)}"/></numFmts><cellXfs count="1"><xf numFmtId="164"/></cellXfs></styleSheet>`;
    const bytes = bomb(
      `<sheetData>${inlineRow(1, ['Email', 'Name'])}${inlineRow(2, ['a@example.com', 'A'])}</sheetData>`,
      [{ name: 'xl/styles.xml', data: Buffer.from(styles) }],
    );
    await expectFailedByWorker(bytes, 'number_format_too_long');
  });
});
