import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeWorkspace } from './support/factories.js';
import { allRows, multipart, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '3' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, {
    roles: ['Admin', 'Customer Success'],
    locations: ['London', 'São Paulo'],
  });
});
describe('POST /v1/imports', () => {
  it('imports a CSV end to end: created, invited, role-assigned, with a per-row report', async () => {
    const csv =
      'Email,Full Name,Role,Branch\r\nann@example.com,Ann Lee,Admin,London\r\nbo@example.com,Bo Ek,,\r\n';
    const res = await upload(ctx.app, ws.token, csv, 'fileName=people.csv');
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/imports/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'queued',
      mode: 'create',
      dryRun: false,
      sendInvites: true,
      fileName: 'people.csv',
      encoding: 'utf-8',
      delimiter: ',',
      totalRows: 2,
    });
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    expect(done).toMatchObject({
      status: 'completed',
      processedRows: 2,
      counts: { created: 2, invited: 2, failed: 0 },
    });
    const rows = await allRows(ctx.app, ws.token, res.body.id);
    expect(rows.map((r) => [r.row, r.email, r.status, r.role])).toEqual([
      [2, 'ann@example.com', 'created', 'Admin'],
      [3, 'bo@example.com', 'created', null],
    ]);
    const users = await call(ctx.app, 'GET', '/v1/users', { token: ws.token });
    expect(users.body.data.map((u: any) => [u.email, u.role.name, u.location?.name ?? null])).toEqual([
      ['ann@example.com', 'Admin', 'London'],
      ['bo@example.com', 'Admin', null],
    ]);
  });

  it('takes multipart with options after the file part', async () => {
    const body = multipart([
      {
        name: 'file',
        file: 'email;name;role\nmp@example.com;Mp User;customer success\n',
        filename: 'x.csv',
        type: 'application/vnd.ms-excel',
      },
      { name: 'dryRun', value: 'true' },
    ]);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(202);
    const imp = res.json();
    expect(imp).toMatchObject({ dryRun: true, delimiter: ';', fileName: 'x.csv' });
    const done = await waitForImport(ctx.app, ws.token, imp.id);
    expect(done.counts.created).toBe(1);
    expect((await call(ctx.app, 'GET', '/v1/users?q=mp@', { token: ws.token })).body.data).toEqual([]);
  });

  it.each([
    ['', 422, 'empty_file'],
    ['name,role\nX,Admin\n', 422, 'missing_columns'],
    ['PK\u0003\u0004binary', 415, 'unsupported_file_type'],
  ])('refuses %j with %i %s and stages nothing', async (csv, status, code) => {
    const before = await ctx.db
      .selectFrom('imports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await upload(ctx.app, ws.token, csv);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    const after = await ctx.db
      .selectFrom('imports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
