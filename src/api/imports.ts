import { Type, type Static } from '@sinclair/typebox';
import { asQueryStrings, DateTime, Literals, Nullable, Uuid } from './common.js';
import { EXAMPLE } from './examples.js';

/** The fields an import fills, in the order the Import's `mapping` and the alias table list them. */
export const FIELDS = ['email', 'name', 'givenName', 'familyName', 'role', 'location', 'externalId'] as const;
export type Field = (typeof FIELDS)[number];

const Count = Type.Integer({ minimum: 0 });
const FieldName = Type.Union(
  FIELDS.map((f) => Type.Literal(f)),
  { description: 'a field an import fills' },
);
export const MAPPING_SOURCES = ['alias', 'saved', 'explicit'] as const;
const Source = Literals(MAPPING_SOURCES);

export const MODES = ['create', 'upsert', 'sync'] as const;

export const IMPORT_STATUSES = [
  'queued',
  'processing',
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const;

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
    id: Uuid,
    status: Literals(IMPORT_STATUSES),
    mode: Literals(MODES),
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
    mappingSources: Type.Partial(
      Type.Object(Object.fromEntries(FIELDS.map((f) => [f, Source])) as Record<Field, typeof Source>),
      {
        description:
          'how each field of `mapping` was found: explicit (the mapping option), saved (a saved mapping of the workspace) or alias',
      },
    ),
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
    revertOf: Nullable(Uuid),
    revertedBy: Nullable(Type.String({ format: 'uuid', description: 'the revert that undid this import' })),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    createdAt: DateTime,
    startedAt: Nullable(DateTime),
    finishedAt: Nullable(DateTime),
  },
  {
    $id: 'Import',
    examples: [
      {
        id: EXAMPLE.importId,
        status: 'completed_with_errors',
        mode: 'upsert',
        dryRun: false,
        sendInvites: true,
        fileName: 'people-march.csv',
        format: 'csv',
        sheet: null,
        encoding: 'utf-8',
        delimiter: ',',
        columns: ['Email', 'First Name', 'Last Name', 'Job role', 'Role', 'Site'],
        mapping: {
          email: 'Email',
          givenName: 'First Name',
          familyName: 'Last Name',
          role: 'Role',
          location: 'Site',
        },
        mappingSources: {
          email: 'alias',
          givenName: 'alias',
          familyName: 'alias',
          role: 'alias',
          location: 'alias',
        },
        warnings: [
          {
            code: 'column_not_used',
            message:
              'The column \'Job role\' is not read, though it looks like role (read from \'Role\'); to read it, name it in mapping ({"role":"Job role"}), or list it in ignore.',
            column: 'Job role',
            field: 'role',
          },
        ],
        totalRows: 3,
        processedRows: 3,
        counts: {
          created: 1,
          updated: 1,
          unchanged: 0,
          skipped: 0,
          failed: 1,
          deactivated: 0,
          deleted: 0,
          invited: 1,
        },
        kind: 'import',
        revertOf: null,
        revertedBy: null,
        error: null,
        createdAt: EXAMPLE.created,
        startedAt: EXAMPLE.created,
        finishedAt: EXAMPLE.created,
      },
    ],
  },
);

export const ROW_STATUSES = [
  'pending',
  'created',
  'updated',
  'unchanged',
  'skipped',
  'failed',
  'deactivated',
  'deleted',
] as const;
export const ROW_INVITATIONS = ['queued', 'sent', 'not_sent', 'failed'] as const;

export const ImportRow = Type.Object(
  {
    row: Type.Union([Type.Integer(), Type.Null()]),
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    role: Nullable(Type.String()),
    location: Nullable(Type.String()),
    status: Literals(ROW_STATUSES),
    invitation: Type.Union([...ROW_INVITATIONS.map((s) => Type.Literal(s)), Type.Null()]),
    errorCode: Nullable(Type.String()),
    errorMessage: Nullable(Type.String()),
    userId: Nullable(Type.String()),
    fixes: Type.Union([
      Type.Record(
        Type.String(),
        Type.Object({ from: Nullable(Type.String()), to: Nullable(Type.String()) }),
        {
          description:
            'Corrections made in the app (PATCH .../rows/:row): each field with the value the file gave and the one it now has',
        },
      ),
      Type.Null(),
    ]),
  },
  {
    examples: [
      {
        row: 4,
        email: 'tom.berg@example',
        name: 'Tom Berg',
        role: 'Customer Success',
        location: 'London',
        status: 'failed',
        invitation: null,
        errorCode: 'invalid_email',
        errorMessage: "'tom.berg@example' is not a valid e-mail address: the domain has no dot.",
        userId: null,
        fixes: null,
      },
    ],
  },
);

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
  { additionalProperties: false, minProperties: 1, examples: [{ email: 'tom.berg@example.com' }] },
);

export const RowParams = Type.Object({
  id: Uuid,
  row: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the row number, as in the file' }),
});

/**
 * The options of an upload, as query parameters or form fields, as the OpenAPI describes them. The
 * upload reads them itself (case-insensitive values, form fields after the file, its own error codes),
 * so the route validates only that each is a string: `UploadQuery`.
 */
export const UploadOptions = Type.Object({
  mode: Type.Optional(Literals(MODES, { default: 'create', description: 'the mode; case does not matter' })),
  dryRun: Type.Optional(
    Type.Boolean({ default: false, description: 'true to compute statuses and write nothing' }),
  ),
  sendInvites: Type.Optional(
    Type.Boolean({ default: true, description: 'false to create users without invitations' }),
  ),
  defaultRole: Type.Optional(Type.String({ description: 'role for rows whose role cell is empty' })),
  notifyEmail: Type.Optional(
    Type.String({
      format: 'email',
      description: 'e-mail a summary here when the import ends: an active user of the workspace',
    }),
  ),
  confirmDeactivations: Type.Optional(
    Type.Integer({ minimum: 0, description: 'sync: the number of deactivations you accept' }),
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
});

export const UploadQuery = asQueryStrings(UploadOptions, { additionalProperties: true });

/** POST /v1/imports's bodies, for the OpenAPI only: Fastify hands the upload over unparsed. */
export const UploadBody = {
  'multipart/form-data': Type.Object(
    {
      file: Type.String({ format: 'binary', description: 'the CSV file or Excel workbook (.xlsx)' }),
      ...UploadOptions.properties,
    },
    { description: 'options may come before or after the file part; form fields win over the query string' },
  ),
  'text/csv': Type.String({
    format: 'binary',
    description: 'the raw bytes of a CSV file (or a workbook): the bytes decide the type, not Content-Type',
  }),
};

export const RowsFilter = Type.Object({
  limit: Type.Optional(Type.String({ description: 'page size, 1–1000 (default 50)' })),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  status: Type.Optional(Literals(ROW_STATUSES, { description: 'rows with this status only' })),
});

/** The service checks `status` itself (400 `invalid_status`): the route takes any string. */
export const RowsQuery = asQueryStrings(RowsFilter, { additionalProperties: false });

export const RevertBody = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: 'true: report what the revert would do, change nothing' }),
    ),
  },
  { additionalProperties: false, examples: [{ dryRun: true }] },
);

export const SavedMapping = Type.Object(
  {
    header: Type.String({ description: 'the header as last mapped' }),
    field: FieldName,
  },
  { examples: [{ header: 'Job role', field: 'role' }] },
);

export const MappingParams = Type.Object({
  header: Type.String({
    description: 'the header, in any spelling that normalises alike (case, spaces, punctuation, accents)',
    examples: ['Job role'],
  }),
});

export type ImportMode = (typeof MODES)[number];
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export type RowStatus = (typeof ROW_STATUSES)[number];
export type Import = Static<typeof Import>;
export type Counts = Import['counts'];
export type ImportRow = Static<typeof ImportRow>;
export type ImportWarning = Static<typeof ImportWarning>;
export type MappingSource = (typeof MAPPING_SOURCES)[number];
export type SavedMapping = Static<typeof SavedMapping>;
