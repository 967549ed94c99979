import { Type } from '@sinclair/typebox';
import { Nullable } from './common.js';

/** The fields an import fills, in the order the Import's `mapping` and the alias table list them. */
export const FIELDS = ['email', 'name', 'givenName', 'familyName', 'role', 'location', 'externalId'] as const;
export type Field = (typeof FIELDS)[number];

const Count = Type.Integer({ minimum: 0 });
const FieldName = Type.Union(
  FIELDS.map((f) => Type.Literal(f)),
  { description: 'a field an import fills' },
);
const Source = Type.Union([Type.Literal('alias'), Type.Literal('saved'), Type.Literal('explicit')]);

export const ImportWarning = Type.Object(
  {
    code: Type.Union([Type.Literal('column_not_used'), Type.Literal('default_role_applied')]),
    message: Type.String(),
    column: Type.Optional(Type.String({ description: 'the input column concerned' })),
    field: Type.Optional(FieldName),
  },
  { description: 'something the upload noticed and did not refuse' },
);

export const Import = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union(
      ['queued', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled'].map((s) =>
        Type.Literal(s),
      ),
    ),
    mode: Type.Union([Type.Literal('create'), Type.Literal('upsert'), Type.Literal('sync')]),
    dryRun: Type.Boolean(),
    sendInvites: Type.Boolean(),
    fileName: Nullable(Type.String()),
    format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], {
      description: 'what was uploaded; for xlsx, `sheet` names the sheet that was read',
    }),
    sheet: Nullable(Type.String()),
    encoding: Type.String(),
    delimiter: Type.String(),
    columns: Type.Array(Type.String()),
    mapping: Type.Record(Type.String(), Type.String(), {
      description:
        'the input column each field is read from (email, name, givenName, familyName, role, location, externalId)',
    }),
    mappingSources: Type.Partial(Type.Object(Object.fromEntries(FIELDS.map((f) => [f, Source]))), {
      description:
        'how each field of `mapping` was found: explicit (the mapping option), saved (a saved mapping of the workspace) or alias',
    }),
    warnings: Type.Array(ImportWarning, {
      description:
        'column_not_used: a column no field reads that looks like one; default_role_applied: no column gives roles',
    }),
    totalRows: Count,
    processedRows: Count,
    counts: Type.Object({
      created: Count,
      updated: Count,
      unchanged: Count,
      skipped: Count,
      failed: Count,
      deactivated: Count,
      deleted: Count,
      invited: Count,
    }),
    kind: Type.Union([Type.Literal('import'), Type.Literal('revert')], {
      description: 'revert: undoes the import revertOf (POST /v1/imports/:id/revert)',
    }),
    revertOf: Nullable(Type.String({ format: 'uuid' })),
    revertedBy: Nullable(Type.String({ format: 'uuid', description: 'the revert that undid this import' })),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Nullable(Type.String({ format: 'date-time' })),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Import' },
);

export const ImportRow = Type.Object({
  row: Type.Union([Type.Integer(), Type.Null()]),
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  role: Nullable(Type.String()),
  location: Nullable(Type.String()),
  status: Type.Union(
    ['pending', 'created', 'updated', 'unchanged', 'skipped', 'failed', 'deactivated', 'deleted'].map((s) =>
      Type.Literal(s),
    ),
  ),
  invitation: Type.Union([
    ...['queued', 'sent', 'not_sent', 'failed'].map((s) => Type.Literal(s)),
    Type.Null(),
  ]),
  errorCode: Nullable(Type.String()),
  errorMessage: Nullable(Type.String()),
  userId: Nullable(Type.String()),
  fixes: Type.Union([
    Type.Record(Type.String(), Type.Object({ from: Nullable(Type.String()), to: Nullable(Type.String()) }), {
      description:
        'Corrections made in the app (PATCH .../rows/:row): each field with the value the file gave and the one it now has',
    }),
    Type.Null(),
  ]),
});

const fixValue = (description: string) =>
  Type.Optional(Nullable(Type.String({ maxLength: 32_767, description })));

export const RowFixBody = Type.Object(
  {
    email: fixValue('the corrected e-mail'),
    name: fixValue('the corrected full name'),
    givenName: fixValue('the corrected given name'),
    familyName: fixValue('the corrected family name'),
    role: fixValue("a role of the workspace (null or '' for the default role)"),
    location: fixValue("a location of the workspace (null or '' for none)"),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RowParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  row: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the row number, as in the file' }),
});

export const UploadQuery = Type.Object(
  {
    mode: Type.Optional(Type.String({ description: 'create (default), upsert or sync' })),
    dryRun: Type.Optional(Type.String({ description: 'true to compute statuses and write nothing' })),
    sendInvites: Type.Optional(Type.String({ description: 'false to create users without invitations' })),
    defaultRole: Type.Optional(Type.String({ description: 'role for rows whose role cell is empty' })),
    notifyEmail: Type.Optional(
      Type.String({
        description: 'e-mail a summary here when the import ends: an active user of the workspace',
      }),
    ),
    confirmDeactivations: Type.Optional(
      Type.String({ description: 'sync: the number of deactivations you accept' }),
    ),
    fileName: Type.Optional(Type.String({ description: 'name to show for a raw upload' })),
    mapping: Type.Optional(
      Type.String({
        description:
          'JSON object, field → header cell, such as {"email": "Mail", "role": "Job role"}; wins over saved mappings and aliases',
      }),
    ),
    ignore: Type.Optional(
      Type.String({ description: 'JSON array of header cells no field reads, such as ["Notes"]' }),
    ),
    sheet: Type.Optional(
      Type.String({
        description:
          'workbooks: the sheet to import, by name or 1-based position among the visible sheets (default: the first visible sheet with the required columns)',
      }),
    ),
  },
  { additionalProperties: true },
);

export const RowsQuery = Type.Object(
  {
    limit: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.String({ description: 'pending, created, updated, unchanged, skipped, failed or deactivated' }),
    ),
  },
  { additionalProperties: false },
);

export const RevertBody = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: 'true: report what the revert would do, change nothing' }),
    ),
  },
  { additionalProperties: false },
);

export const SavedMapping = Type.Object({
  header: Type.String({ description: 'the header as last mapped' }),
  field: FieldName,
});

export const MappingParams = Type.Object({
  header: Type.String({
    description: 'the header, in any spelling that normalises alike (case, spaces, punctuation, accents)',
  }),
});
