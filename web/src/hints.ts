/** What a row error means in plain words, and how to fix it in the spreadsheet. */
export const FIX: Record<string, string> = {
  missing_email: 'Fill in the e-mail cell; every person needs an address.',
  invalid_email:
    'Correct the address: one @, no spaces, plain ASCII letters (for example ann.lee@example.com).',
  missing_name: 'Fill in the name, or both the first and the last name.',
  name_too_long: 'Shorten the name to 200 characters or fewer.',
  unknown_role:
    'Use one of the workspace’s roles (listed in the message), leave the cell empty for the default role, or ask an admin to add the role.',
  unknown_location: 'Use one of the workspace’s locations (listed in the message), or leave the cell empty.',
  duplicate_in_file:
    'This e-mail appears earlier in the file, and only the first row is imported. Delete or merge the later rows.',
  already_exists:
    'This person already has an account, so the row was skipped. To update existing people, import with “Add and update”.',
  malformed_row:
    'This row has a different number of cells than the header: look for a stray delimiter or an unclosed quote.',
  role_managed_by_identity_provider:
    'The role comes from your identity provider’s groups. Change it there, or leave the role cell empty.',
  changed_since_import:
    'This person changed after the import (an edit, a later import, the identity provider, or an accepted invitation), so the undo left them as they are now.',
  not_journaled:
    'This import ran before changes were journaled, so the values from before it are unknown; change this person by hand if needed.',
  internal_error:
    'Something failed on our side. Use “Retry failed rows”; if it fails again, contact support with the import id.',
};

export const fixFor = (code: string | null): string =>
  (code && FIX[code]) ?? 'Correct the row in the spreadsheet, then upload the file again.';

/** A preview's row results: what would happen, since nothing did. */
export const WOULD_LABEL: Record<string, string> = {
  pending: 'Pending',
  created: 'Would create',
  updated: 'Would update',
  unchanged: 'Would stay unchanged',
  skipped: 'Would skip',
  failed: 'Would fail',
  deactivated: 'Would deactivate',
  deleted: 'Would delete',
};

export const STATUS_LABEL: Record<string, string> = {
  queued: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  completed_with_errors: 'Completed with errors',
  failed: 'Failed',
  cancelled: 'Cancelled',
  pending: 'Pending',
  created: 'Created',
  updated: 'Updated',
  unchanged: 'Unchanged',
  skipped: 'Skipped',
  deactivated: 'Deactivated',
  deleted: 'Deleted',
  invited: 'Invited',
  active: 'Active',
  succeeded: 'Delivered',
};

/** Event types in words (webhooks). */
export const EVENT_LABEL: Record<string, string> = {
  'user.created': 'User added',
  'user.updated': 'User changed',
  'user.deactivated': 'User deactivated',
  'user.reactivated': 'User reactivated',
  'user.deleted': 'User deleted',
  'invitation.accepted': 'Invitation accepted',
  'import.completed': 'Import completed',
  'import.failed': 'Import failed',
  'import.reverted': 'Import undone',
  'webhook.test': 'Test',
};

export const MODE_LABEL: Record<string, string> = {
  create: 'Add new people only',
  upsert: 'Add and update',
  sync: 'Sync (add, update, deactivate the rest)',
};

export const DELIMITER_LABEL: Record<string, string> = {
  ',': 'comma (,)',
  ';': 'semicolon (;)',
  '\t': 'tab',
  '|': 'pipe (|)',
};

export const FIELD_LABEL: Record<string, string> = {
  email: 'E-mail',
  name: 'Name',
  givenName: 'First name',
  familyName: 'Last name',
  role: 'Role',
  location: 'Location',
  externalId: 'External ID',
};

const PROVIDER = (managedBy: string): string => (managedBy === 'scim' ? 'SCIM' : managedBy);

/** Who manages a user (User.managedBy), as its badge says: "Identity provider (SCIM)". */
export const managedByLabel = (managedBy: string): string => `Identity provider (${PROVIDER(managedBy)})`;

/** The same inside a sentence: "… is managed by an identity provider (SCIM)." */
export const managedByPhrase = (managedBy: string): string => `an identity provider (${PROVIDER(managedBy)})`;

/** Said before a change to users an identity provider manages, single or in bulk. */
export const IDP_OVERWRITES =
  'Your identity provider may overwrite this change at its next sync: to make it last, change it there.';
