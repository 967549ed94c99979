import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Ref, Uuid } from './common.js';
import { EXAMPLE } from './examples.js';

export const Settings = Type.Object(
  {
    defaultRole: Ref,
    invitationTtlHours: Type.Integer(),
    scimSendInvites: Type.Boolean(),
    scimCreatesLocations: Type.Boolean(),
    syncThresholdPercent: Type.Integer(),
    syncThresholdMin: Type.Integer(),
    updatedAt: DateTime,
  },
  {
    $id: 'Settings',
    examples: [
      {
        defaultRole: { id: EXAMPLE.defaultRoleId, name: 'Member' },
        invitationTtlHours: 168,
        scimSendInvites: false,
        scimCreatesLocations: true,
        syncThresholdPercent: 10,
        syncThresholdMin: 10,
        updatedAt: EXAMPLE.updated,
      },
    ],
  },
);

export const SettingsPatchBody = Type.Object(
  {
    defaultRole: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    invitationTtlHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 8760 })),
    scimSendInvites: Type.Optional(Type.Boolean()),
    scimCreatesLocations: Type.Optional(Type.Boolean()),
    syncThresholdPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    syncThresholdMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ invitationTtlHours: 72, scimSendInvites: true }],
  },
);

export const AuditEvent = Type.Object(
  {
    id: Type.String(),
    actor: Type.String(),
    action: Type.String(),
    source: Type.String(),
    targetType: Type.String(),
    targetId: Nullable(Type.String()),
    userId: Nullable(Type.String()),
    changes: Type.Unknown(),
    details: Type.Unknown(),
    createdAt: DateTime,
  },
  {
    examples: [
      {
        id: EXAMPLE.auditId,
        actor: 'lp_k3Jd9QmZ2x',
        action: 'user.updated',
        source: 'api',
        targetType: 'user',
        targetId: EXAMPLE.userId,
        userId: EXAMPLE.userId,
        changes: { role: { from: 'Customer Success', to: 'Admin' } },
        details: null,
        createdAt: EXAMPLE.updated,
      },
    ],
  },
);

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
    userId: Type.Optional(Uuid),
    since: Type.Optional(Type.String({ description: 'events at or after this ISO 8601 date-time' })),
    until: Type.Optional(Type.String({ description: 'events before this ISO 8601 date-time' })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    source: Type.Optional(Type.String({ maxLength: 100 })),
    actor: Type.Optional(Type.String({ maxLength: 100 })),
    targetType: Type.Optional(
      Type.Union([
        Type.Literal('user'),
        Type.Literal('group'),
        Type.Literal('import'),
        Type.Literal('settings'),
        Type.Literal('location'),
        Type.Literal('invitation'),
      ]),
    ),
    targetId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export type Settings = Static<typeof Settings>;
export type SettingsPatch = Static<typeof SettingsPatchBody>;
export type AuditEvent = Static<typeof AuditEvent>;
