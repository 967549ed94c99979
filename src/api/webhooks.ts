import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES } from '../events/types.js';
import { DateTime, Literals, Nullable, Uuid } from './common.js';
import { EXAMPLE } from './examples.js';

export const MAX_ENDPOINTS_PER_WORKSPACE = 20;
export const MAX_DESCRIPTION = 500;
export const MAX_URL = 2048;
/** The event type of a test delivery (POST /v1/webhooks/:id/test). */
export const TEST_EVENT_TYPE = 'webhook.test';
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const DISABLED_REASONS = ['manual', 'failing'] as const;

const EventTypes = Type.Array(Literals(EVENT_TYPES), {
  minItems: 1,
  maxItems: EVENT_TYPES.length,
  uniqueItems: true,
  description: 'the event types the endpoint receives',
});
const Url = Type.String({
  minLength: 1,
  maxLength: MAX_URL,
  description:
    'where deliveries are POSTed: https (http only where WEBHOOK_ALLOW_HTTP=true), to a public address',
});

const endpointFields = {
  id: Uuid,
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Literals(EVENT_TYPES)),
  enabled: Type.Boolean(),
  disabledReason: Nullable(
    Literals(DISABLED_REASONS, {
      description:
        '`manual`: a PATCH turned it off; `failing`: every attempt failed for 5 days. PATCH { enabled: true } turns it on again.',
    }),
  ),
  disabledAt: Nullable(DateTime),
  failingSince: Nullable(
    Type.String({
      format: 'date-time',
      description: 'the first failed attempt since the last success; null while it answers',
    }),
  ),
  createdAt: DateTime,
  updatedAt: DateTime,
};

const endpointExample = {
  id: EXAMPLE.webhookId,
  url: 'https://hooks.example.com/loopit',
  description: 'CRM sync',
  events: ['user.created', 'user.deactivated'],
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  failingSince: null,
  createdAt: EXAMPLE.created,
  updatedAt: EXAMPLE.created,
};

export const WebhookEndpoint = Type.Object(endpointFields, {
  $id: 'WebhookEndpoint',
  examples: [endpointExample],
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

export const CreatedWebhookEndpoint = Type.Object(
  {
    ...endpointFields,
    secret: Type.String({
      description:
        'the signing secret (Standard Webhooks, whsec_...): shown in this answer only; verify deliveries with it',
    }),
  },
  {
    $id: 'CreatedWebhookEndpoint',
    examples: [{ ...endpointExample, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw7BKjhjk4TMk=' }],
  },
);
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

export const NewWebhookBody = Type.Object(
  {
    url: Url,
    events: EventTypes,
    description: Type.Optional(Type.String({ maxLength: MAX_DESCRIPTION })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        url: 'https://hooks.example.com/loopit',
        events: ['user.created', 'user.deactivated'],
        description: 'CRM sync',
      },
    ],
  },
);
export type NewWebhookBody = Static<typeof NewWebhookBody>;

export const WebhookPatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(EventTypes),
    description: Type.Optional(Nullable(Type.String({ maxLength: MAX_DESCRIPTION }))),
    enabled: Type.Optional(
      Type.Boolean({
        description: 'false pauses deliveries; true resumes them and clears the failure record',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ enabled: true }] },
);
export type WebhookPatchBody = Static<typeof WebhookPatchBody>;

export const Delivery = Type.Object(
  {
    id: Uuid,
    eventId: Type.String({ description: 'also the webhook-id header of every attempt' }),
    eventType: Literals([...EVENT_TYPES, TEST_EVENT_TYPE]),
    status: Literals(DELIVERY_STATUSES),
    attempts: Type.Integer({ minimum: 0 }),
    lastResponseStatus: Nullable(Type.Integer({ description: 'the HTTP status of the last answer' })),
    lastError: Nullable(Type.String({ description: 'why the last attempt failed' })),
    lastAttemptAt: Nullable(DateTime),
    nextAttemptAt: Nullable(
      Type.String({
        format: 'date-time',
        description: 'when it is tried next; null when finished, or while the endpoint is disabled',
      }),
    ),
    createdAt: DateTime,
  },
  {
    $id: 'WebhookDelivery',
    examples: [
      {
        id: EXAMPLE.deliveryId,
        eventId: EXAMPLE.auditId,
        eventType: 'user.created',
        status: 'pending',
        attempts: 2,
        lastResponseStatus: 503,
        lastError: 'the endpoint answered 503 Service Unavailable',
        lastAttemptAt: EXAMPLE.updated,
        nextAttemptAt: EXAMPLE.expires,
        createdAt: EXAMPLE.created,
      },
    ],
  },
);
export type Delivery = Static<typeof Delivery>;

export const DeliveryQuery = Type.Object(
  {
    status: Type.Optional(Literals(DELIVERY_STATUSES)),
    limit: Type.Optional(Type.String({ description: 'page size, 1–1000 (default 50)' })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuery>;

export const DeliveryParams = Type.Object({
  id: Type.String({ format: 'uuid', examples: [EXAMPLE.webhookId] }),
  deliveryId: Type.String({ format: 'uuid', examples: [EXAMPLE.deliveryId] }),
});
