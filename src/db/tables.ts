import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

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
  email: string;
  email_key: string;
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
  token_hash: Buffer;
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
}

export type Scope = 'users' | 'imports' | 'scim' | 'admin';

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

export interface ServiceSecretTable {
  name: string;
  value: Buffer;
  created_at: Timestamp;
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
  service_secrets: ServiceSecretTable;
  invitation_resends: InvitationResendTable;
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
