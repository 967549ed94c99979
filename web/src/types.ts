/**
 * The API's shapes: the service's own schemas (src/api), read as types only, so nothing of the
 * server reaches the bundle and a field the API adds or renames reaches the app's type check.
 */
import type { ImportStatus } from '../../src/api/imports.js';
import type { EventType } from '../../src/events/types.js';

export type { Ref } from '../../src/api/common.js';
export type {
  Counts,
  Field,
  Import,
  ImportMode as Mode,
  ImportRow,
  ImportStatus,
  RowStatus,
} from '../../src/api/imports.js';
export type { Location, Role } from '../../src/api/roles.js';
export type { AuditEvent, Settings } from '../../src/api/settings.js';
export type { BulkAction, BulkAnswer, BulkStatus, User, UserStatus } from '../../src/api/users.js';

export const FINISHED: ImportStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

export type { EventType } from '../../src/events/types.js';
export type {
  CreatedWebhookEndpoint,
  Delivery as WebhookDelivery,
  WebhookEndpoint,
} from '../../src/api/webhooks.js';

/** The event types a webhook endpoint can receive, in the API's order (checked against its type). */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'invitation.accepted',
  'import.completed',
  'import.failed',
  'import.reverted',
] as const satisfies readonly EventType[];
/** Compiles only while EVENT_TYPES lists every event type the API knows. */
export const EVENT_TYPES_COMPLETE: [Exclude<EventType, (typeof EVENT_TYPES)[number]>] extends [never]
  ? true
  : never = true;
