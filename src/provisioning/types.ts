export type ProvisionOp = 'upsert' | 'replace' | 'patch' | 'deactivate' | 'delete';
export type ProvisionMode = 'create' | 'upsert' | 'sync';
export type ProvisionStatus =
  'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'deactivated' | 'deleted';

export interface TypedEmail {
  value: string;
  display?: string;
  type?: string;
  primary?: boolean;
}

/** One user write. For each field, undefined leaves it as it is and null clears it. */
export interface ProvisionItem {
  key: string;
  userId?: string;
  expectedVersion?: number;
  op?: ProvisionOp;
  email?: string;
  userName?: string;
  givenName?: string | null;
  familyName?: string | null;
  displayName?: string | null;
  /** Role by name; null means the workspace default. */
  role?: string | null;
  /** Location by name; null clears it. */
  location?: string | null;
  externalId?: string | null;
  emails?: TypedEmail[] | null;
  attributes?: Record<string, unknown> | null;
  /** true: (re)activate; false: deactivate. */
  active?: boolean;
  /** expectedVersion is the version the caller read, not the client's If-Match: a miss is retried. */
  optimistic?: boolean;
  /** Mark the user as managed by an identity provider (SCIM creates or claims it). */
  managedBy?: 'scim' | null;
}

export interface ProvisionResult {
  key: string;
  status: ProvisionStatus;
  errorCode?: string;
  errorMessage?: string;
  /** The field an error is about, when there is one. */
  field?: string;
  userId?: string;
  version?: number;
  invitation: 'queued' | 'not_sent' | null;
  /** The invitation created for this item, when one was. */
  invitationId?: string;
}

export interface ProvisionOptions {
  /** create: existing users are skipped (already_exists); upsert and sync: they are updated. */
  mode: ProvisionMode;
  dryRun: boolean;
  /** Create an invitation (and its e-mail) for users who become invited. */
  sendInvites: boolean;
  /** csv:<importId>, scim, api: goes to logs and audit. */
  source: string;
  /** Who: a token prefix, or 'invitation'. */
  actor: string;
  /** Users created without an invitation start active (SCIM with invitations off), not invited. */
  activateUninvited?: boolean;
  /** The request that asked for the write (`PATCH /scim/v2/Users/:id`), kept in the audit events. */
  operation?: string;
  /**
   * A user may be created without an e-mail (SCIM: only userName is required). Such a user can never be
   * invited: when an invitation would be sent, the item fails with `missing_email`.
   */
  emailOptional?: boolean;
  /** A location the workspace lacks is created (audited) instead of failing with `unknown_location`. */
  createLocations?: boolean;
}

export interface EngineLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
