import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestContext, useTestWorkers } from '../support/context.js';
import { makeWorkspace } from '../support/factories.js';
import { UPLOAD_ERROR_CODES, stagedState } from '../support/hostile.js';
import { upload, waitForImport } from '../support/imports.js';
import { handWorkbook, inlineRow, workbook, XLSX_TYPE } from '../support/workbooks.js';

/*
 * Hostile workbooks: damaged bytes inside a real .xlsx, XML tricks, blank-row padding. The upload is
 * answered 202 or a documented 4xx, never a 5xx; a refused one stages nothing; an accepted one reaches
 * a terminal status with a reason, and its stored workbook is gone.
 */
const ctx = useTestContext({ IMPORT_MAX_ROWS: '200', BATCH_SIZE: '50' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };
let valid: Buffer;

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db);
  valid = await workbook([
    {
      name: 'People',
      rows: [
        ['Email', 'Name'],
        ...Array.from({ length: 20 }, (_, i) => [`p${i}@example.com`, `Person ${i}`]),
      ],
    },
  ]);
});
const send = (bytes: Buffer) =>
  upload(ctx.app, ws.token, bytes, 'dryRun=true', { 'content-type': XLSX_TYPE });

/** Accepted: the import ends (any terminal status), with a reason when it failed. Refused: a documented 4xx. */
async function expectHandled(bytes: Buffer): Promise<void> {
  const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
  const res = await send(bytes);
  if (res.status === 202) {
    const done = await waitForImport(ctx.app, ws.token, res.body.id, 60_000);
    expect(['completed', 'completed_with_errors', 'failed']).toContain(done.status);
    if (done.status === 'failed') expect(done.error.message.length).toBeGreaterThan(20);
    return;
  }
  expect([413, 415, 422]).toContain(res.status);
  expect(UPLOAD_ERROR_CODES).toContain(res.body.error.code);
  expect(res.body.error.message.length).toBeGreaterThan(20);
  const after = await stagedState(ctx.app, ctx.db, ws.workspaceId);
  expect({ imports: after.imports, rows: after.rows }).toEqual({
    imports: before.imports,
    rows: before.rows,
  });
}

describe('hostile workbooks', { timeout: 120_000 }, () => {
  it('answers damaged bytes inside a real workbook with 202 or a clear 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: 1_000_000 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (flips) => {
          const bytes = Buffer.from(valid);
          for (const [at, value] of flips) bytes[4 + (at % (bytes.length - 4))] = value;
          await expectHandled(bytes);
        },
      ),
      { numRuns: 20 },
    );
  });

  it.each([
    [
      'entity expansion (billion laughs)',
      `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><sheetData>${inlineRow(1, ['Email', '&b;'])}</sheetData>`,
      422,
    ],
    [
      '400,000 blank rows before anything',
      `<sheetData>${'<row><c/></row>'.repeat(400_000)}${inlineRow(400_001, ['Email', 'Name'])}</sheetData>`,
      422,
    ],
    [
      'a row number past Excel',
      `<sheetData><row r="99999999">${'<c r="A1" t="inlineStr"><is><t>Email</t></is></c>'}</row></sheetData>`,
      422,
    ],
    [
      'a column past XFD',
      '<sheetData><row r="1"><c r="XFE1" t="inlineStr"><is><t>Email</t></is></c></row></sheetData>',
      422,
    ],
    [
      '1,500 header columns',
      `<sheetData>${inlineRow(1, ['Email', ...Array.from({ length: 1499 }, (_, i) => `c${i}`)], true)}</sheetData>`,
      422,
    ],
    [
      '__proto__ and constructor as headers',
      `<sheetData>${inlineRow(1, ['Email', 'Name', '__proto__', 'constructor'])}${inlineRow(2, ['x@example.com', 'X', 'a', 'b'])}</sheetData>`,
      202,
    ],
  ])('%s', async (_name, sheet, status) => {
    const bytes = await handWorkbook(sheet);
    const res = await send(bytes);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (res.status === 202) await waitForImport(ctx.app, ws.token, res.body.id, 60_000);
    await expectHandled(bytes);
  });
});
