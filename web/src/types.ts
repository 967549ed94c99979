/** The API's shapes, as docs/api.md describes them. */
export type ImportStatus =
  'queued' | 'processing' | 'completed' | 'completed_with_errors' | 'failed' | 'cancelled';
export type RowStatus =
  'pending' | 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'deactivated' | 'deleted';
export type Mode = 'create' | 'upsert' | 'sync';

export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  deactivated: number;
  deleted: number;
  invited: number;
}

export interface Import {
  id: string;
  status: ImportStatus;
  mode: Mode;
  dryRun: boolean;
  sendInvites: boolean;
  fileName: string | null;
  format: 'csv' | 'xlsx';
  sheet: string | null;
  encoding: string;
  delimiter: string;
  columns: string[];
  mapping: Record<string, string>;
  /** How each field of `mapping` was found: alias, saved or explicit. */
  mappingSources?: Record<string, 'alias' | 'saved' | 'explicit'>;
  /** What the service noticed and did not guess: columns that look unused, the default role applied. */
  warnings?: { code: string; message: string; column?: string; field?: string }[];
  totalRows: number;
  processedRows: number;
  counts: Counts;
  /** `revert`: undoes the import `revertOf`. */
  kind: 'import' | 'revert';
  revertOf: string | null;
  revertedBy: string | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ImportRow {
  row: number | null;
  email: string | null;
  name: string | null;
  role: string | null;
  location: string | null;
  status: RowStatus;
  invitation: 'queued' | 'sent' | 'not_sent' | 'failed' | null;
  errorCode: string | null;
  errorMessage: string | null;
  userId: string | null;
  /** Corrections made in the app: each field with the file's value and the one it now has. */
  fixes: Record<string, { from: string | null; to: string | null }> | null;
}

export interface Ref {
  id: string;
  name: string;
}

export interface Role extends Ref {
  rank: number;
  isDefault: boolean;
}

export type UserStatus = 'invited' | 'active' | 'deactivated';

export interface User {
  id: string;
  email: string | null;
  name: string;
  givenName: string | null;
  familyName: string | null;
  role: Ref;
  location: Ref | null;
  status: UserStatus;
  managedBy: string | null;
  invitation: {
    status: 'pending' | 'accepted' | 'expired' | 'revoked';
    sentAt: string | null;
    expiresAt: string;
  } | null;
  createdAt: string;
  version: number;
}

export interface Settings {
  defaultRole: Ref;
  invitationTtlHours: number;
  scimSendInvites: boolean;
  scimCreatesLocations: boolean;
  syncThresholdPercent: number;
  syncThresholdMin: number;
  updatedAt: string;
}

export const FINISHED: ImportStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

/** One entry of the provisioning log (GET /v1/audit). */
export interface AuditEvent {
  id: string;
  /** A token's prefix, `invitation` for an acceptance, or `system`. */
  actor: string;
  action: string;
  /** `api`, `scim`, `bulk`, `invitation`, `csv:<importId>` or `revert:<importId>`. */
  source: string;
  targetType: string;
  targetId: string | null;
  userId: string | null;
  changes: unknown;
  details: unknown;
  createdAt: string;
}

export type BulkAction =
  'deactivate' | 'reactivate' | 'delete' | 'resend_invitation' | 'set_role' | 'set_location';
export type BulkStatus = 'updated' | 'unchanged' | 'deleted' | 'invited' | 'skipped' | 'failed';

/** The answer of POST /v1/users/bulk. */
export interface BulkAnswer {
  action: BulkAction;
  results: { id: string; status: BulkStatus; errorCode: string | null; errorMessage: string | null }[];
  counts: Record<BulkStatus, number>;
}

/** The event types a webhook endpoint can receive (docs/api.md, Webhooks). */
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
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: EventType[];
  enabled: boolean;
  /** `manual`: turned off here or by a PATCH; `failing`: every attempt failed for 5 days. */
  disabledReason: 'manual' | 'failing' | null;
  disabledAt: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The answer of POST /v1/webhooks: the endpoint and its signing secret, shown this once. */
export interface CreatedWebhookEndpoint extends WebhookEndpoint {
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  /** Also the webhook-id header of every attempt. */
  eventId: string;
  eventType: EventType | 'webhook.test';
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}
