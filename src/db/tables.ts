import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Field } from '../imports/pipeline/aliases.js';
import type { ImportWarning, MappingSource } from '../imports/pipeline/mapping.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;

export interface WorkspaceTable {
  id: Generated<string>;
  name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WorkspaceSettingsTable {
  workspace_id: string;
  default_role_id: string;
  invitation_ttl_hours: Generated<number>;
  scim_send_invites: Generated<boolean>;
  scim_creates_locations: Generated<boolean>;
  sync_threshold_percent: Generated<number>;
  sync_threshold_min: Generated<number>;
  updated_at: Timestamp;
}

export interface RoleTable {
  workspace_id: string;
  id: Generated<string>;
  name: string;
  name_key: string;
  rank: Generated<number>;
  /** The SCIM group's ETag: bumped by a rename or a membership change. */
  version: Generated<number>;
  /** The identity provider's id for the group (SCIM externalId). */
  external_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LocationTable {
  workspace_id: string;
  id: Generated<string>;
  name: string;
  name_key: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type UserStatus = 'invited' | 'active' | 'deactivated';

export interface UserTable {
  workspace_id: string;
  id: Generated<string>;
  user_name: string;
  user_name_key: string;
  /** Null only for a user created over SCIM with neither an e-mail userName nor `emails`. */
  email: string | null;
  email_key: string | null;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  direct_role_id: string;
  role_id: string;
  location_id: string | null;
  external_id: string | null;
  managed_by: 'scim' | null;
  status: UserStatus;
  emails: Json<unknown[]>;
  attributes: Json<Record<string, unknown>>;
  activated_at: NullableTimestamp;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface GroupMembershipTable {
  workspace_id: string;
  role_id: string;
  user_id: string;
  created_at: Timestamp;
}

export interface InvitationTable {
  workspace_id: string;
  id: Generated<string>;
  user_id: string;
  /** Legacy invitations only (tokens from before tokens carried their ids); null for new ones. */
  token_hash: Buffer | null;
  status: Generated<'pending' | 'accepted' | 'revoked'>;
  expires_at: Timestamp;
  send_state: Generated<'queued' | 'sending' | 'sent' | 'failed' | 'not_sent'>;
  send_attempts: Generated<number>;
  sending_since: NullableTimestamp;
  sent_at: NullableTimestamp;
  last_error: string | null;
  accepted_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  created_by: string;
  created_at: Timestamp;
}

export interface AuditEventTable {
  workspace_id: string;
  id: Generated<string>;
  actor: string;
  action: string;
  source: string;
  target_type: string;
  target_id: string | null;
  user_id: string | null;
  changes: Json<Record<string, unknown> | null> | null;
  details: Json<Record<string, unknown> | null> | null;
  created_at: Timestamp;
  /** The writing transaction's id (xid8, as text): the events feed reads in (tx, id) order. */
  tx: Generated<string>;
}

export type Scope = 'users' | 'imports' | 'scim' | 'admin' | 'events';

export interface ApiTokenTable {
  id: Generated<string>;
  workspace_id: string;
  prefix: string;
  token_hash: Buffer;
  scopes: Scope[];
  name: string | null;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface InvitationResendTable {
  workspace_id: string;
  id: Generated<string>;
  status: Generated<'queued' | 'processing' | 'completed' | 'failed'>;
  invitation_status: 'pending' | 'expired';
  older_than_days: number | null;
  matched: Generated<number>;
  resent: Generated<number>;
  error: string | null;
  requested_by: string;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export type ImportStatus =
  'queued' | 'processing' | 'completed' | 'completed_with_errors' | 'failed' | 'cancelled';
export type ImportMode = 'create' | 'upsert' | 'sync';
export type RowStatus =
  'pending' | 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'deactivated' | 'deleted';

export interface ImportTable {
  workspace_id: string;
  id: Generated<string>;
  status: Generated<ImportStatus>;
  mode: ImportMode;
  dry_run: boolean;
  send_invites: boolean;
  default_role: string | null;
  notify_email: string | null;
  confirm_deactivations: number | null;
  file_name: string | null;
  encoding: string;
  delimiter: string;
  columns: Json<string[]>;
  mapping: Json<Record<string, number>>;
  total_rows: Generated<number>;
  processed_rows: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  skipped: Generated<number>;
  failed: Generated<number>;
  deactivated: Generated<number>;
  invited: Generated<number>;
  error: Json<{ code: string; message: string } | null> | null;
  attempt: Generated<number>;
  cancel_requested: Generated<boolean>;
  applied_from: string | null;
  created_by: string;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  purged_at: NullableTimestamp;
  format: Generated<ImportFormat>;
  sheet: string | null;
  /** 'revert': undoes the import `revert_of`. */
  kind: Generated<'import' | 'revert'>;
  revert_of: string | null;
  /** The revert (not a dry run) that undid this import. */
  reverted_by: string | null;
  deleted: Generated<number>;
  /** How each field's column was found. */
  mapping_sources: Json<Partial<Record<Field, MappingSource>>>;
  warnings: Json<ImportWarning[]>;
}

/** A workspace's saved mapping: a header (by its normalised key, as last written) and its field. */
export interface ImportMappingTable {
  workspace_id: string;
  header_key: string;
  header: string;
  field: Field;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type ImportFormat = 'csv' | 'xlsx';

/** An uploaded workbook waiting for its conversion, in chunks. */
export interface ImportWorkbookTable {
  workspace_id: string;
  import_id: string;
  seq: number;
  data: Buffer;
}

export interface ImportRowTable {
  workspace_id: string;
  import_id: string;
  idx: number;
  row_number: number | null;
  cells: string[];
  email: string | null;
  email_key: string | null;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  role: string | null;
  location: string | null;
  external_id: string | null;
  status: Generated<RowStatus>;
  invitation: 'queued' | 'not_sent' | null;
  invitation_id: string | null;
  error_code: string | null;
  error_message: string | null;
  user_id: string | null;
  /** The user's version this import's run left (a revert leaves alone a user changed since). */
  user_version: number | null;
  /** Corrections made in the app: { field: { from, to } }, `from` as the file gave it. */
  fixes: ColumnType<RowFixes | null, string | null | undefined, string | null>;
}

export type RowFixes = Partial<Record<FixableField, { from: string | null; to: string | null }>>;
export type FixableField = 'email' | 'name' | 'givenName' | 'familyName' | 'role' | 'location';

export interface IdempotencyKeyTable {
  workspace_id: string;
  key: string;
  state: 'in_progress' | 'done';
  fingerprint: string | null;
  import_id: string | null;
  created_at: Timestamp;
}

/** An upload being read or staged (one per request in hand), across every API process. */
export interface UploadSlotTable {
  workspace_id: string;
  id: string;
  taken_at: Timestamp;
  /** Renewed while the holder lives; a row not renewed for UPLOAD_SLOT_STALE_MS no longer counts. */
  renewed_at: Timestamp;
}

export type BulkStatus = 'queued' | 'running' | 'done';

/** A SCIM Bulk request: operations staged by the API, results written by the worker batch by batch. */
export interface ScimBulkRequestTable {
  workspace_id: string;
  id: string;
  status: Generated<BulkStatus>;
  actor: string;
  fail_on_errors: number | null;
  operation_count: number;
  /** The validated operations; null once the request is done. */
  operations: Json<unknown[] | null> | null;
  /** Operation index → its outcome. */
  results: Json<Record<string, unknown>>;
  /** provision() calls made for it (observability: 1,000 creates are one batch). */
  batches: Generated<number>;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export type WebhookDisabledReason = 'manual' | 'failing';

/** A workspace's webhook receiver; the secret is stored encrypted (src/webhooks/secrets.ts). */
export interface WebhookEndpointTable {
  workspace_id: string;
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: Generated<boolean>;
  disabled_reason: WebhookDisabledReason | null;
  disabled_at: NullableTimestamp;
  secret_ciphertext: Buffer;
  /** Which key encrypted the secret (a rotation re-encrypts under the new one). */
  secret_key_id: string;
  /** The events feed's cursor up to which events have been fanned out to this endpoint. */
  feed_cursor: string | null;
  /** The first failed attempt since the last success; null while healthy. */
  failing_since: NullableTimestamp;
  /** Delivery runs in a row that failed and succeeded nothing; spaces the probes of a failing endpoint. */
  failure_streak: Generated<number>;
  /** While failing: no automatic attempt before this. */
  paused_until: NullableTimestamp;
  /** When a delivery of this endpoint is next due (what the workers' tick looks at); null: nothing. */
  next_due_at: NullableTimestamp;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One event to one endpoint: unique per (endpoint, event), so its id survives retries and crashes. */
export interface WebhookDeliveryTable {
  workspace_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The body of a test delivery; null for events, which are read from the events feed when sent. */
  payload: Json<Record<string, unknown> | null> | null;
  status: Generated<DeliveryStatus>;
  /** Asked for by a person (a test, a retry by hand): sent even while the endpoint is failing or disabled, once. */
  manual: Generated<boolean>;
  attempts: Generated<number>;
  last_response_status: number | null;
  last_error: string | null;
  last_attempt_at: NullableTimestamp;
  next_attempt_at: NullableTimestamp;
  /** A worker is sending it until then; a worker that died leaves it due again after this. */
  leased_until: NullableTimestamp;
  created_at: Timestamp;
}

export interface Database {
  workspaces: WorkspaceTable;
  workspace_settings: WorkspaceSettingsTable;
  roles: RoleTable;
  locations: LocationTable;
  users: UserTable;
  group_memberships: GroupMembershipTable;
  invitations: InvitationTable;
  audit_events: AuditEventTable;
  api_tokens: ApiTokenTable;
  invitation_resends: InvitationResendTable;
  imports: ImportTable;
  import_rows: ImportRowTable;
  import_workbooks: ImportWorkbookTable;
  import_mappings: ImportMappingTable;
  idempotency_keys: IdempotencyKeyTable;
  scim_bulk_requests: ScimBulkRequestTable;
  upload_slots: UploadSlotTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
}

export type RoleRow = Selectable<RoleTable>;
export type NewRole = Insertable<RoleTable>;
export type RoleUpdate = Updateable<RoleTable>;
export type LocationRow = Selectable<LocationTable>;
export type NewLocation = Insertable<LocationTable>;
export type WorkspaceSettingsRow = Selectable<WorkspaceSettingsTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;
export type UserRow = Selectable<UserTable>;
export type NewAuditEvent = Insertable<AuditEventTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
