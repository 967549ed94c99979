import { Type } from '@sinclair/typebox';

export const Role = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    rank: Type.Integer({ description: 'higher wins when a user’s groups give several roles' }),
    isDefault: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Role' },
);

export const NewRoleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1000 }),
    rank: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);

export const RolePatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    rank: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Location = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Location' },
);

export const NewLocationBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
