import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Uuid } from './common.js';
import { EXAMPLE } from './examples.js';

export const Role = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    rank: Type.Integer({ description: 'higher wins when a user’s groups give several roles' }),
    isDefault: Type.Boolean(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  {
    $id: 'Role',
    examples: [
      {
        id: EXAMPLE.roleId,
        name: 'Customer Success',
        rank: 20,
        isDefault: false,
        createdAt: EXAMPLE.created,
        updatedAt: EXAMPLE.created,
      },
    ],
  },
);

export const NewRoleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1000 }),
    rank: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false, examples: [{ name: 'Team Lead', rank: 15 }] },
);

export const RolePatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    rank: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ rank: 30 }] },
);

export const Location = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  {
    $id: 'Location',
    examples: [
      { id: EXAMPLE.locationId, name: 'London', createdAt: EXAMPLE.created, updatedAt: EXAMPLE.created },
    ],
  },
);

export const NewLocationBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false, examples: [{ name: 'São Paulo' }] },
);

export type Role = Static<typeof Role>;
export type Location = Static<typeof Location>;
