import { beforeAll, describe, expect, it } from 'vitest';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { makeToken, makeWorkspace } from './support/factories.js';
import { stagedState } from './support/hostile.js';
import { allRows, multipart, upload, waitForImport } from './support/imports.js';

const ctx = useTestContext({ BATCH_SIZE: '5' });
useTestWorkers(ctx);
let ws: { workspaceId: string; token: string };

beforeAll(async () => {
  ws = await makeWorkspace(ctx.db, { roles: ['Member', 'Admin'], locations: ['London', 'Paris'] });
});

const JOB_ROLE_CSV =
  'Email,Name,Job role\nfleet@example.com,Fleet Manager,Admin\nwiz@example.com,Wiz Ard,Wizard\n';

const form = (csv: string, fields: Record<string, string>, fieldsFirst = true) => {
  const parts = Object.entries(fields).map(([name, value]) => ({ name, value }));
  const file = { name: 'file', file: csv, filename: 'people.csv' };
  return multipart(fieldsFirst ? [...parts, file] : [file, ...parts]);
};

const postForm = async (csv: string, fields: Record<string, string>, fieldsFirst = true) => {
  const body = form(csv, fields, fieldsFirst);
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/v1/imports',
    headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
    payload: body.payload,
  });
  return { status: res.statusCode, body: res.json() };
};

const q = (options: Record<string, unknown>) =>
  new URLSearchParams(
    Object.entries(options).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  ).toString();

const savedMappings = async () =>
  (await call(ctx.app, 'GET', '/v1/imports/mappings', { token: ws.token })).body.data;

describe('a column no field reads', () => {
  it('is reported: "Job role" is column_not_used, and every row gets the default role', async () => {
    const res = await upload(ctx.app, ws.token, JOB_ROLE_CSV, 'dryRun=true');
    expect(res.status).toBe(202);
    expect(res.body.mapping).toEqual({ email: 'Email', name: 'Name' });
    expect(res.body.mappingSources).toEqual({ email: 'alias', name: 'alias' });
    expect(res.body.warnings).toEqual([
      {
        code: 'column_not_used',
        column: 'Job role',
        field: 'role',
        message: expect.stringMatching(/^The column 'Job role' is not read, though it looks like role/),
      },
      {
        code: 'default_role_applied',
        field: 'role',
        message: expect.stringContaining("every row gets the workspace's default role 'Member'"),
      },
    ]);
    const done = await call(ctx.app, 'GET', `/v1/imports/${res.body.id}`, { token: ws.token });
    expect(done.body.warnings).toEqual(res.body.warnings);
  });

  it('is read once mapped: the roles of "Job role" apply and an unknown one is flagged', async () => {
    const res = await upload(ctx.app, ws.token, JOB_ROLE_CSV, q({ mapping: { role: 'Job role' } }));
    expect(res.status).toBe(202);
    expect(res.body.mapping).toEqual({ email: 'Email', name: 'Name', role: 'Job role' });
    expect(res.body.mappingSources).toEqual({ email: 'alias', name: 'alias', role: 'explicit' });
    expect(res.body.warnings).toEqual([]);
    const done = await waitForImport(ctx.app, ws.token, res.body.id);
    const rows = await allRows(ctx.app, ws.token, done.id);
    expect(rows.map((r) => [r.email, r.status, r.role, r.errorCode])).toEqual([
      ['fleet@example.com', 'created', 'Admin', null],
      ['wiz@example.com', 'failed', 'Wizard', 'unknown_role'],
    ]);
  });

  it('names the role defaultRole gives when no column gives roles', async () => {
    const res = await upload(
      ctx.app,
      ws.token,
      'email,name\nx1@example.com,X\n',
      'dryRun=1&defaultRole=Admin',
    );
    expect(res.body.warnings).toEqual([
      expect.objectContaining({
        code: 'default_role_applied',
        message: expect.stringContaining("every row gets the role 'Admin' (defaultRole)"),
      }),
    ]);
  });

  it('is silent when listed in ignore, and an ignored alias column is not read', async () => {
    const csv = 'Email,Name,Role,Manager Email\nig@example.com,Ig,Admin,boss@example.com\n';
    const res = await upload(
      ctx.app,
      ws.token,
      csv,
      q({ dryRun: 'true', ignore: ['Manager Email', 'role'] }),
    );
    expect(res.status).toBe(202);
    expect(res.body.mapping).toEqual({ email: 'Email', name: 'Name' });
    expect(res.body.warnings.map((w: any) => w.code)).toEqual(['default_role_applied']);
  });
});

describe('the mapping option', () => {
  it.each([
    ['form fields before the file', true],
    ['form fields after the file', false],
  ])('is read from %s', async (_, fieldsFirst) => {
    const res = await postForm(
      'Courriel pro,Nom complet,Fonction\nform@example.com,Form One,Admin\n',
      { mapping: JSON.stringify({ email: 'Courriel pro', role: 'Fonction' }), dryRun: 'true' },
      fieldsFirst,
    );
    expect(res.status).toBe(202);
    expect(res.body.mapping).toEqual({ email: 'Courriel pro', name: 'Nom complet', role: 'Fonction' });
    expect(res.body.mappingSources).toEqual({ email: 'explicit', name: 'alias', role: 'explicit' });
  });

  it('is kept by apply of a dry run, which saves its choices', async () => {
    const csv = 'Correo corporativo,Nombre completo,Perfil\napply1@example.com,Apply One,Admin\n';
    const mapping = { email: 'Correo corporativo', role: 'Perfil' };
    const preview = await upload(ctx.app, ws.token, csv, q({ dryRun: 'true', mapping }));
    expect(preview.status).toBe(202);
    await waitForImport(ctx.app, ws.token, preview.body.id);
    expect((await savedMappings()).map((m: any) => m.header)).not.toContain('Perfil');
    const applied = await call(ctx.app, 'POST', `/v1/imports/${preview.body.id}/apply`, { token: ws.token });
    expect(applied.status).toBe(202);
    expect(applied.body).toMatchObject({
      dryRun: false,
      mapping: preview.body.mapping,
      mappingSources: preview.body.mappingSources,
      warnings: preview.body.warnings,
    });
    await waitForImport(ctx.app, ws.token, applied.body.id);
    const users = await call(ctx.app, 'GET', '/v1/users?q=apply1', { token: ws.token });
    expect(users.body.data.map((u: any) => [u.email, u.role.name])).toEqual([
      ['apply1@example.com', 'Admin'],
    ]);
    expect(await savedMappings()).toEqual(
      expect.arrayContaining([
        { header: 'Correo corporativo', field: 'email' },
        { header: 'Perfil', field: 'role' },
      ]),
    );
  });

  it('turns a refused file into an accepted one: "Mail", "Nom", "Rolle"', async () => {
    const csv = 'Mail,Nom,Rolle\nnom1@example.com,Aline Roux,Admin\n';
    const refused = await upload(ctx.app, ws.token, csv);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({
      code: 'missing_columns',
      missing: ['givenName'],
      headers: ['Mail', 'Nom', 'Rolle'],
      suggestions: { name: 'Nom' },
    });
    expect(refused.body.error).not.toHaveProperty('sheets');
    const accepted = await upload(ctx.app, ws.token, csv, q({ mapping: refused.body.error.suggestions }));
    expect(accepted.status).toBe(202);
    expect(accepted.body.mapping).toEqual({ email: 'Mail', name: 'Nom', role: 'Rolle' });
    const done = await waitForImport(ctx.app, ws.token, accepted.body.id);
    expect(done.counts).toMatchObject({ created: 1, failed: 0 });
  });

  it('answers a misspelt "Emial" with 422 naming it as the suggestion', async () => {
    const res = await upload(ctx.app, ws.token, 'Emial,Full Name\nem@example.com,Em\n');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'missing_columns',
      missing: ['email'],
      headers: ['Emial', 'Full Name'],
      suggestions: { email: 'Emial' },
    });
    expect(res.body.error.message).toContain("Its columns are 'Emial', 'Full Name'");
  });
});

describe('a mapping that cannot be applied', () => {
  const csv = 'Email,Name,Site,Site,Notes\nbad@example.com,Bad,London,Paris,x\n';
  it.each([
    [
      'an unknown field',
      { mapping: '{"manager": "Notes"}' },
      "mapping names 'manager', which is not a field",
    ],
    [
      'a header the file lacks',
      { mapping: '{"role": "Job role"}' },
      "names 'Job role', which is not a column",
    ],
    [
      'one header for two fields',
      { mapping: '{"role": "Notes", "location": "notes"}' },
      'both role and location',
    ],
    ['bad JSON', { mapping: "{'role': 'Notes'}" }, 'mapping is not valid JSON'],
    ['an empty header name', { mapping: '{"role": " "}' }, 'mapping.role is an empty header name'],
    [
      'a header the file has twice',
      { mapping: '{"location": "Site"}' },
      'the file has 2 columns by that name',
    ],
    ['an ignored header the file lacks', { ignore: '["Remarks"]' }, "ignore names 'Remarks'"],
    ['a header both mapped and ignored', { mapping: '{"role":"Notes"}', ignore: '["Notes"]' }, 'in ignore'],
  ])('refuses %s: 400 invalid_mapping, nothing staged', async (_, options, message) => {
    const before = await stagedState(ctx.app, ctx.db, ws.workspaceId);
    for (const res of [
      await upload(ctx.app, ws.token, csv, q(options)),
      await postForm(csv, options, false),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_mapping');
      expect(res.body.error.message).toContain(message);
    }
    expect(await stagedState(ctx.app, ctx.db, ws.workspaceId)).toEqual(before);
  });

  it('refuses an option given twice, and sheet for a CSV', async () => {
    const twice = await upload(ctx.app, ws.token, csv, 'mapping=%7B%7D&mapping=%7B%7D');
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('validation_failed');
    const body = multipart([
      { name: 'mapping', value: '{}' },
      { name: 'mapping', value: '{"role": "Notes"}' },
      { name: 'file', file: csv, filename: 'twice.csv' },
    ]);
    const twiceInForm = await ctx.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: { authorization: `Bearer ${ws.token}`, ...body.headers },
      payload: body.payload,
    });
    expect(twiceInForm.statusCode).toBe(400);
    expect(twiceInForm.json().error).toMatchObject({ code: 'invalid_option', field: 'mapping' });
    const sheet = await upload(ctx.app, ws.token, csv, 'sheet=People');
    expect(sheet.status).toBe(400);
    expect(sheet.body.error).toMatchObject({ code: 'invalid_option', field: 'sheet' });
  });

  it('binds an Idempotency-Key to the mapping too', async () => {
    const headers = { 'idempotency-key': 'mapping-key-1' };
    const first = await upload(ctx.app, ws.token, csv, q({ dryRun: 'true', ignore: ['Notes'] }), headers);
    expect(first.status).toBe(202);
    const replay = await upload(ctx.app, ws.token, csv, q({ dryRun: 'true', ignore: ['Notes'] }), headers);
    expect([replay.status, replay.body.id]).toEqual([200, first.body.id]);
    const other = await upload(
      ctx.app,
      ws.token,
      csv,
      q({ dryRun: 'true', mapping: { role: 'Notes' } }),
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
  });
});

describe('saved mappings', () => {
  const csv = (email: string) => `E-mail,Name,Job-Title,Office Site\n${email},Saved User,Admin,Paris\n`;

  it('remembers the explicit choices of an accepted upload and applies them to later files', async () => {
    const dry = await upload(
      ctx.app,
      ws.token,
      csv('s0@example.com'),
      q({ dryRun: 'true', mapping: { role: 'Job-Title' } }),
    );
    expect(dry.status).toBe(202);
    expect((await savedMappings()).map((m: any) => m.header)).not.toContain('Job-Title');

    const first = await upload(
      ctx.app,
      ws.token,
      csv('s1@example.com'),
      q({ mapping: { role: 'Job-Title', location: 'Office Site', email: 'E-mail' } }),
    );
    expect(first.status).toBe(202);
    const list = await savedMappings();
    expect(list).toEqual(
      expect.arrayContaining([
        { header: 'Job-Title', field: 'role' },
        { header: 'Office Site', field: 'location' },
      ]),
    );
    // A choice the aliases make anyway is not saved.
    expect(list.map((m: any) => m.header)).not.toContain('E-mail');

    const later = await upload(ctx.app, ws.token, 'JOB TITLE,email,name\nAdmin,s2@example.com,S2\n');
    expect(later.status).toBe(202);
    expect(later.body.mapping).toEqual({ role: 'JOB TITLE', email: 'email', name: 'name' });
    expect(later.body.mappingSources).toEqual({ role: 'saved', email: 'alias', name: 'alias' });

    const overridden = await upload(
      ctx.app,
      ws.token,
      'Job Title,Rôle,email,name\nAdmin,Member,s3@example.com,S3\n',
      q({ dryRun: 'true', mapping: { role: 'Rôle' } }),
    );
    expect(overridden.body.mappingSources.role).toBe('explicit');
    expect(overridden.body.mapping.role).toBe('Rôle');
  });

  it('forgets one by DELETE /v1/imports/mappings/:header, in any spelling', async () => {
    const del = await call(ctx.app, 'DELETE', '/v1/imports/mappings/job%20title', { token: ws.token });
    expect(del.status).toBe(204);
    expect((await savedMappings()).map((m: any) => m.header)).not.toContain('Job-Title');
    const after = await upload(
      ctx.app,
      ws.token,
      'Job Title,email,name\nAdmin,s4@example.com,S4\n',
      'dryRun=true',
    );
    expect(after.body.mapping).toEqual({ email: 'email', name: 'name' });
    const again = await call(ctx.app, 'DELETE', '/v1/imports/mappings/Job-Title', { token: ws.token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('mapping_not_found');
  });

  it('are per workspace and need the imports scope', async () => {
    const other = await makeWorkspace(ctx.db);
    const otherList = await call(ctx.app, 'GET', '/v1/imports/mappings', { token: other.token });
    expect(otherList.body).toEqual({ data: [], nextCursor: null });
    const gone = await call(ctx.app, 'DELETE', '/v1/imports/mappings/Office%20Site', { token: other.token });
    expect(gone.status).toBe(404);
    const usersOnly = await makeToken(ctx.db, ws.workspaceId, ['users']);
    for (const [method, url] of [
      ['GET', '/v1/imports/mappings'],
      ['DELETE', '/v1/imports/mappings/Office%20Site'],
    ] as const) {
      const res = await call(ctx.app, method, url, { token: usersOnly });
      expect(res.status).toBe(403);
    }
  });

  it('pages like every list', async () => {
    const page = await call(ctx.app, 'GET', '/v1/imports/mappings?limit=1', { token: ws.token });
    expect(page.body.data).toHaveLength(1);
    expect(typeof page.body.nextCursor).toBe('string');
    const next = await call(ctx.app, 'GET', `/v1/imports/mappings?limit=1&cursor=${page.body.nextCursor}`, {
      token: ws.token,
    });
    expect(next.body.data[0]).not.toEqual(page.body.data[0]);
    const bad = await call(ctx.app, 'GET', '/v1/imports/mappings?limit=0', { token: ws.token });
    expect(bad.body.error.code).toBe('invalid_limit');
  });
});

describe('the OpenAPI description', () => {
  it('advertises the options, the Import fields and the saved-mapping routes', async () => {
    const doc = (await call(ctx.app, 'GET', '/docs/json')).body;
    const upload = doc.paths['/v1/imports'].post;
    const params = upload.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['mapping', 'ignore', 'sheet']));
    const imp = upload.responses['202'].content['application/json'].schema.properties;
    expect(Object.keys(imp.mappingSources.properties)).toEqual([
      'email',
      'name',
      'givenName',
      'familyName',
      'role',
      'location',
      'externalId',
    ]);
    expect(imp.warnings.items.properties.code.enum).toEqual(['column_not_used', 'default_role_applied']);
    expect(Object.keys(doc.paths['/v1/imports/mappings'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/imports/mappings/{header}'])).toEqual(['delete']);
  });
});
