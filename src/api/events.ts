import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../events/types.js';
import { EXAMPLE } from './examples.js';

export const Event = Type.Object(
  {
    id: Type.String({
      format: 'uuid',
      description: 'the audit event’s id: GET /v1/audit shows the change itself',
    }),
    type: Type.Union(
      EVENT_TYPES.map((t) => Type.Literal(t)),
      { description: 'what happened' },
    ),
    timestamp: Type.String({ format: 'date-time', description: 'when the change was made' }),
    workspaceId: Type.String({ format: 'uuid' }),
    data: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'the user as GET /v1/users/:id shows it, or for import.* the import as GET /v1/imports/:id shows it, read when the event is read',
      },
    ),
  },
  { $id: 'Event' },
);

export const EventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'next of a previous page; absent: from the oldest event kept',
      }),
    ),
    types: Type.Optional(
      Type.String({
        maxLength: 1000,
        description: `comma-separated: ${EVENT_TYPES.join(', ')}`,
        examples: ['user.created,user.deactivated'],
      }),
    ),
    limit: Type.Optional(Type.String({ description: 'events per page, 1–1000 (default 100)' })),
  },
  { additionalProperties: false },
);

export const EventsPage = Type.Object(
  {
    data: Type.Array(Event),
    next: Type.Union([Type.String(), Type.Null()], {
      description: 'pass as after to read on; null only while the feed has never held an event',
    }),
    hasMore: Type.Boolean({ description: 'more events are readable now: ask again at once' }),
  },
  {
    examples: [
      {
        data: [
          {
            id: EXAMPLE.auditId,
            type: 'user.created',
            timestamp: EXAMPLE.created,
            workspaceId: EXAMPLE.workspaceId,
            data: {
              id: EXAMPLE.userId,
              email: 'ada.lovelace@example.com',
              name: 'Ada Lovelace',
              status: 'invited',
            },
          },
        ],
        next: 'NzYxNDowMTkwN2M1My00ZjVhLTdiNmMtOWQ3ZS04ZjlhMGIxYzJkMDE',
        hasMore: false,
      },
    ],
  },
);
