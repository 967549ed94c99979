import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '../lib/schemas.js';
import { EVENT_TYPES } from './event-feed.js';

export const MAX_ENDPOINTS_PER_WORKSPACE = 20;
export const MAX_DESCRIPTION = 500;

export const TEST_EVENT_TYPE = 'webhook.test';
const DELIVERY_EVENT_TYPES = [...EVENT_TYPES, TEST_EVENT_TYPE] as const;
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

const EventTypes = Type.Array(StringEnum(EVENT_TYPES), {
  minItems: 1,
  maxItems: EVENT_TYPES.length,
  uniqueItems: true,
  description: 'the event types this endpoint receives',
});
const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description:
    'where deliveries are POSTed: https (http only where WEBHOOK_ALLOW_HTTP=true), to a public address',
});
const Description = Type.String({ maxLength: MAX_DESCRIPTION });
const DateTime = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const endpointFields = {
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(StringEnum(EVENT_TYPES)),
  enabled: Type.Boolean(),
  disabledReason: Nullable(
    StringEnum(['manual', 'failing'] as const, {
      description:
        '`manual`: a PATCH turned it off; `failing`: every attempt failed for 5 days. PATCH { enabled: true } turns it on again.',
    }),
  ),
  disabledAt: Nullable(DateTime()),
  failingSince: Nullable(DateTime('the first failed attempt since the last success; null while it answers')),
  createdAt: DateTime(),
  updatedAt: DateTime(),
};

export const WebhookEndpoint = Type.Object(endpointFields, { $id: 'WebhookEndpoint' });
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = Type.Object(
  {
    ...endpointFields,
    secret: Type.String({
      description:
        'the signing secret (Standard Webhooks, whsec_...): shown in this answer only; verify deliveries with it',
    }),
  },
  { $id: 'CreatedWebhookEndpoint' },
);
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

export const NewWebhookBody = Type.Object(
  { url: Url, events: EventTypes, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type NewWebhookBody = Static<typeof NewWebhookBody>;

export const WebhookPatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(EventTypes),
    description: Type.Optional(Nullable(Description)),
    enabled: Type.Optional(
      Type.Boolean({
        description: 'false pauses deliveries; true resumes them and clears the failure record',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type WebhookPatchBody = Static<typeof WebhookPatchBody>;

export const Delivery = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    eventId: Type.String({ description: 'also the webhook-id header of every attempt' }),
    eventType: StringEnum(DELIVERY_EVENT_TYPES),
    status: StringEnum(DELIVERY_STATUSES),
    attempts: Type.Integer({ minimum: 0 }),
    lastResponseStatus: Nullable(Type.Integer({ description: 'the HTTP status of the last answer' })),
    lastError: Nullable(Type.String({ description: 'why the last attempt failed' })),
    lastAttemptAt: Nullable(DateTime()),
    nextAttemptAt: Nullable(
      DateTime('when it is tried next; null when finished, or while the endpoint is disabled'),
    ),
    createdAt: DateTime(),
  },
  { $id: 'WebhookDelivery' },
);
export type Delivery = Static<typeof Delivery>;

export const DeliveryQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
    limit: Type.Optional(Type.String({ description: 'page size, 1–1000 (default 50)' })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuery>;

export const DeliveryParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  deliveryId: Type.String({ format: 'uuid' }),
});
