import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { stagedState } from './support/hostile.js';
import { allRows, multipart, upload, waitForImport } from './support/imports.js';
import { workbook, XLSX_TYPE, type SheetSpec } from './support/workbooks.js';

const ctx = useTestContext({ BATCH_SIZE: '5' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Member', 'Admin'], locations: ['Berlin'] });
});

const uploadXlsx = (bytes: Buffer, query = '') =>
  upload(ctx.app, ws.token, bytes, query, { 'content-type': XLSX_TYPE });

const INSTRUCTIONS: SheetSpec = {
  name: 'Instructions',
  rows: [['How to fill in this file'], ['One person per row on the People sheet']],
};
const people = (email: string, header = ['Email', 'Name', 'Role']): SheetSpec => ({
  name: 'People',
  rows: [header, [email, 'Sheet Person', 'Admin']],
});

describe('which sheet of a workbook is read', () => {
  it('passes over an instructions sheet to the first sheet with the required columns', async () => {
    const res = await uploadXlsx(await workbook([INSTRUCTIONS, people('auto@example.com')]));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ format: 'xlsx', sheet: 'People', mapping: { email: 'Email' } });
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(done).toMatchObject({ status: 'completed', sheet: 'People', counts: { created: 1 } });
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.row, r.email, r.role])).toEqual([[2, 'auto@example.com', 'Admin']]);
  });

  it.each([
    ['by name', 'People'],
    ['by name in another case', 'people'],
    ['by position among visible sheets', '2'],
  ])('takes the sheet option %s', async (_, sheet) => {
    const bytes = await workbook([
      { name: 'Hidden', rows: [['Email', 'Name']], state: 'hidden' },
      {
        name: 'Other',
        rows: [
          ['Email', 'Name'],
          ['other@example.com', 'Other'],
        ],
      },
      people(`pick-${sheet}@example.com`),
    ]);
    const res = await uploadXlsx(bytes, `sheet=${sheet}&dryRun=true`);
    expect(res.status).toBe(202);
    expect(res.body.sheet).toBe('People');
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => r.email)).toEqual([`pick-${sheet}@example.com`]);
  });

  it.each([['Staff'], ['Hidden'], ['3'], ['0']])(
    'answers 422 unknown_sheet for %s, listing the visible sheets, with nothing staged',
    async (sheet) => {
      const bytes = await workbook([
        { name: 'Hidden', rows: [['Email', 'Name']], state: 'hidden' },
        INSTRUCTIONS,
        people('nope@example.com'),
      ]);
      const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
      const res = await uploadXlsx(bytes, `sheet=${sheet}`);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'unknown_sheet', sheets: ['Instructions', 'People'] });
      expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
    },
  );

  it('names the sheet read and the sheets there are when no sheet has the columns', async () => {
    const res = await uploadXlsx(
      await workbook([
        INSTRUCTIONS,
        {
          name: 'Data',
          rows: [
            ['Mail', 'Nom'],
            ['x@example.com', 'X'],
          ],
        },
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'missing_columns',
      missing: ['email', 'name'],
      headers: ['How to fill in this file'],
      sheet: 'Instructions',
      sheets: ['Instructions', 'Data'],
    });
    const chosen = await uploadXlsx(
      await workbook([
        INSTRUCTIONS,
        {
          name: 'Data',
          rows: [
            ['Mail', 'Nom'],
            ['x@example.com', 'X'],
          ],
        },
      ]),
      'sheet=Data',
    );
    expect(chosen.body.error).toMatchObject({
      code: 'missing_columns',
      missing: ['givenName'],
      headers: ['Mail', 'Nom'],
      suggestions: { name: 'Nom' },
      sheet: 'Data',
    });
  });
});

describe('a workbook with the mapping option', () => {
  it('reads the mapped columns, multipart, the sheet found by the mapping', async () => {
    const bytes = await workbook([
      INSTRUCTIONS,
      people('mapped@example.com', ['Courriel pro', 'Nom', 'Fonction']),
    ]);
    const body = multipart([
      { name: 'file', file: bytes, filename: 'team.xlsx', type: XLSX_TYPE },
      { name: 'mapping', value: JSON.stringify({ email: 'Courriel pro', name: 'Nom', role: 'Fonction' }) },
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      sheet: 'People',
      mapping: { email: 'Courriel pro', name: 'Nom', role: 'Fonction' },
      mappingSources: { email: 'explicit', name: 'explicit', role: 'explicit' },
      warnings: [],
    });
    const done = await waitForImport(ctx.app, ws.token, res.json().id);
    expect(done.counts).toMatchObject({ created: 1, failed: 0 });
    const users = await call(ctx.app, 'GET', '/v1/users?q=mapped', { token: ws.token });
    expect(users.body.data[0]).toMatchObject({ name: 'Sheet Person', role: { name: 'Admin' } });
  });

  it('answers 400 invalid_mapping when no sheet has the mapped header', async () => {
    const res = await uploadXlsx(
      await workbook([INSTRUCTIONS, people('none@example.com')]),
      `mapping=${encodeURIComponent('{"role":"Job role"}')}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_mapping', header: 'Job role' });
  });
});
