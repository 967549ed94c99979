import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Literals, Nullable, Ref, Uuid } from './common.js';
import { EXAMPLE } from './examples.js';

export const User = Type.Object(
  {
    id: Uuid,
    userName: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    givenName: Nullable(Type.String()),
    familyName: Nullable(Type.String()),
    role: Ref,
    location: Type.Union([Ref, Type.Null()]),
    status: Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('deactivated')]),
    externalId: Nullable(Type.String()),
    managedBy: Nullable(Type.String()),
    invitation: Type.Union([
      Type.Object({
        status: Type.Union(['pending', 'accepted', 'expired', 'revoked'].map((s) => Type.Literal(s))),
        sentAt: Nullable(DateTime),
        expiresAt: DateTime,
      }),
      Type.Null(),
    ]),
    createdAt: DateTime,
    updatedAt: DateTime,
    version: Type.Integer({ description: 'also the ETag; PATCH and DELETE honour If-Match' }),
  },
  {
    $id: 'User',
    examples: [
      {
        id: EXAMPLE.userId,
        userName: 'ann.lee@example.com',
        email: 'ann.lee@example.com',
        name: 'Ann Lee',
        givenName: 'Ann',
        familyName: 'Lee',
        role: { id: EXAMPLE.roleId, name: 'Customer Success' },
        location: { id: EXAMPLE.locationId, name: 'London' },
        status: 'invited',
        externalId: null,
        managedBy: null,
        invitation: { status: 'pending', sentAt: EXAMPLE.created, expiresAt: EXAMPLE.expires },
        createdAt: EXAMPLE.created,
        updatedAt: EXAMPLE.created,
        version: 1,
      },
    ],
  },
);

const Name = Type.String({ maxLength: 1000 });

export const NewUserBody = Type.Object(
  {
    email: Type.String({ maxLength: 1000 }),
    name: Type.Optional(Name),
    givenName: Type.Optional(Name),
    familyName: Type.Optional(Name),
    role: Type.String({ minLength: 1, maxLength: 1000 }),
    location: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    sendInvite: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        email: 'ann.lee@example.com',
        givenName: 'Ann',
        familyName: 'Lee',
        role: 'Customer Success',
        location: 'London',
      },
    ],
  },
);

export const UserPatchBody = Type.Object(
  {
    name: Type.Optional(Type.Union([Name, Type.Null()])),
    givenName: Type.Optional(Type.Union([Name, Type.Null()])),
    familyName: Type.Optional(Type.Union([Name, Type.Null()])),
    role: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    location: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('deactivated')])),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ familyName: 'Lee-Smith', role: 'Admin', location: null }],
  },
);

export const UserListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('deactivated')]),
    ),
    role: Type.Optional(Type.String({ description: 'role name' })),
    location: Type.Optional(Type.String({ description: 'location name' })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'substring of name, e-mail or userName' })),
  },
  { additionalProperties: false },
);

export const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String()) });

export const ResendBody = Type.Object(
  {
    status: Type.Union([Type.Literal('expired'), Type.Literal('pending')]),
    olderThanDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  },
  { additionalProperties: false, examples: [{ status: 'expired', olderThanDays: 7 }] },
);

export const Resend = Type.Object(
  {
    id: Type.String(),
    status: Literals(['queued', 'processing', 'completed', 'failed'] as const),
    invitationStatus: Type.Union([Type.Literal('expired'), Type.Literal('pending')]),
    olderThanDays: Type.Union([Type.Integer(), Type.Null()]),
    matched: Type.Integer(),
    resent: Type.Integer(),
    error: Nullable(Type.String()),
    createdAt: DateTime,
    startedAt: Nullable(DateTime),
    finishedAt: Nullable(DateTime),
  },
  {
    examples: [
      {
        id: EXAMPLE.resendId,
        status: 'completed',
        invitationStatus: 'expired',
        olderThanDays: 7,
        matched: 42,
        resent: 42,
        error: null,
        createdAt: EXAMPLE.created,
        startedAt: EXAMPLE.created,
        finishedAt: EXAMPLE.created,
      },
    ],
  },
);

export const BULK_ACTIONS = [
  'deactivate',
  'reactivate',
  'delete',
  'resend_invitation',
  'set_role',
  'set_location',
] as const;
export const BULK_STATUSES = ['updated', 'unchanged', 'deleted', 'invited', 'skipped', 'failed'] as const;

export const BulkBody = Type.Object(
  {
    action: Literals(BULK_ACTIONS),
    ids: Type.Array(Uuid, { minItems: 1, maxItems: 1000, uniqueItems: true }),
    value: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 1000 }), Type.Null()], {
        description: 'set_role: a role name; set_location: a location name, or null for none',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ action: 'set_role', ids: [EXAMPLE.userId, EXAMPLE.otherUserId], value: 'Admin' }],
  },
);

const BulkStatus = Literals(BULK_STATUSES);

export const BulkAnswer = Type.Object(
  {
    action: Type.String(),
    results: Type.Array(
      Type.Object({
        id: Type.String(),
        status: BulkStatus,
        errorCode: Type.Union([Type.String(), Type.Null()]),
        errorMessage: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    counts: Type.Object({
      updated: Type.Integer(),
      unchanged: Type.Integer(),
      deleted: Type.Integer(),
      invited: Type.Integer(),
      skipped: Type.Integer(),
      failed: Type.Integer(),
    }),
  },
  {
    examples: [
      {
        action: 'set_role',
        results: [
          { id: EXAMPLE.userId, status: 'updated', errorCode: null, errorMessage: null },
          {
            id: EXAMPLE.otherUserId,
            status: 'failed',
            errorCode: 'role_managed_by_identity_provider',
            errorMessage: "This user's role comes from their identity provider's groups; change it there.",
          },
        ],
        counts: { updated: 1, unchanged: 0, deleted: 0, invited: 0, skipped: 0, failed: 1 },
      },
    ],
  },
);

export type User = Static<typeof User>;
export type UserStatus = User['status'];
export type NewUser = Static<typeof NewUserBody>;
export type UserPatch = Static<typeof UserPatchBody>;
export type UserListQuery = Static<typeof UserListQuery>;
export type Resend = Static<typeof Resend>;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export type BulkStatus = (typeof BULK_STATUSES)[number];
/** BulkAnswer's `action` is one of BULK_ACTIONS; the schema leaves it a string so serializing never checks it. */
export type BulkAnswer = Omit<Static<typeof BulkAnswer>, 'action'> & { action: BulkAction };
export type BulkResult = BulkAnswer['results'][number];
