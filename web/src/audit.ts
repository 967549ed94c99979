/** The provisioning log in words: sources, actions, and each event's changes and reasons. */
import { STATUS_LABEL, managedByLabel } from './hints';
import type { AuditEvent } from './types';
import { plural } from './ui';

/** The source filter: what the API's `source` matches (`csv` matches every import). */
export const SOURCES: { value: string; label: string }[] = [
  { value: '', label: 'All sources' },
  { value: 'scim', label: 'Identity provider (SCIM)' },
  { value: 'csv', label: 'Imports' },
  { value: 'api', label: 'API (and single changes in this app)' },
  { value: 'bulk', label: 'Bulk actions' },
  { value: 'invitation', label: 'People accepting their invitation' },
  { value: 'revert', label: 'Undone imports' },
];

export const ACTION_LABEL: Record<string, string> = {
  'user.created': 'User added',
  'user.updated': 'User changed',
  'user.deactivated': 'User deactivated',
  'user.reactivated': 'User reactivated',
  'user.deleted': 'User deleted',
  'user.role_changed': 'Role changed by a group',
  'invitation.resent': 'Invitation sent again',
  'invitation.accepted': 'Invitation accepted',
  'scim.rejected': 'SCIM request refused',
  'group.created': 'Group added',
  'group.updated': 'Group changed',
  'group.deleted': 'Group deleted',
  'location.created': 'Location added',
  'settings.updated': 'Settings changed',
  'webhook.created': 'Webhook endpoint added',
  'webhook.updated': 'Webhook endpoint changed',
  'webhook.deleted': 'Webhook endpoint deleted',
  'webhook.disabled': 'Webhook endpoint disabled after 5 days of failures',
  'import.completed': 'Import finished',
  'import.failed': 'Import failed',
  'import.reverted': 'Import undone',
};

const SOURCE_LABEL: Record<string, string> = {
  scim: 'Identity provider (SCIM)',
  api: 'API',
  bulk: 'Bulk action',
  invitation: 'Invitation',
  webhooks: 'Webhook deliveries',
};

/** A source in words, and the import it names (`csv:<id>`, `revert:<id>`), if any. */
export function sourceOf(source: string): { label: string; importId: string | null } {
  const [kind = '', id = null] = source.split(':', 2);
  if (kind === 'csv') return { label: 'Import', importId: id };
  if (kind === 'revert') return { label: 'Undo of an import', importId: id };
  return { label: SOURCE_LABEL[kind] ?? source, importId: null };
}

/** Who made the change: a token (the signed-in one is "you"), the person accepting, or the service. */
export function actorOf(
  actor: string,
  ownToken: string | undefined,
): { label: string; token: string | null } {
  if (actor === 'invitation') return { label: 'The person, accepting the invitation', token: null };
  if (actor === 'system') return { label: 'The service', token: null };
  if (!actor.startsWith('lp_')) return { label: actor, token: null };
  return { label: ownToken?.startsWith(`${actor}_`) ? 'You' : 'Another token', token: actor };
}

const FIELD: Record<string, string> = {
  user_name: 'User name',
  email: 'E-mail',
  given_name: 'First name',
  family_name: 'Last name',
  display_name: 'Name',
  name: 'Name',
  role_id: 'Role',
  direct_role_id: 'Role set directly',
  location_id: 'Location',
  external_id: 'External ID',
  managed_by: 'Managed by',
  status: 'Status',
  emails: 'E-mails',
  attributes: 'Other attributes',
  defaultRole: 'Default role',
  invitationTtlHours: 'Invitations expire after (hours)',
  scimSendInvites: 'Invite users created over SCIM',
  scimCreatesLocations: 'Add locations an identity provider sends',
  syncThresholdPercent: 'Sync safety threshold (%)',
  syncThresholdMin: 'Sync safety threshold (people)',
  url: 'URL',
  events: 'Events',
  description: 'Description',
  enabled: 'Enabled',
};

/** Role and location names by id (events keep ids, so that a rename does not rewrite history). */
export interface Names {
  role: (id: string) => string;
  location: (id: string) => string;
}

function show(field: string, value: unknown, names: Names): string {
  if (value === null || value === undefined || value === '') return 'none';
  if ((field === 'role_id' || field === 'direct_role_id') && typeof value === 'string')
    return names.role(value);
  if (field === 'location_id' && typeof value === 'string') return names.location(value);
  if (field === 'status' && typeof value === 'string') return STATUS_LABEL[value] ?? value;
  if (field === 'managed_by' && typeof value === 'string') return managedByLabel(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'object' && 'name' in value && typeof value.name === 'string') return value.name;
  const json = JSON.stringify(value);
  return json.length > 160 ? `${json.slice(0, 159)}…` : json;
}

type Diff = Record<string, { from: unknown; to: unknown }>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isDiff = (v: unknown): v is Diff =>
  isRecord(v) && Object.values(v).every((c) => isRecord(c) && 'from' in c && 'to' in c);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The changed fields as `{ from, to }`, whatever shape the event stored them in. */
function diffOf(event: AuditEvent): Diff {
  const { changes } = event;
  if (isDiff(changes)) return changes;
  // settings.updated events written before changes were per field kept the settings before and the patch.
  if (isRecord(changes) && isRecord(changes.before) && isRecord(changes.patch)) {
    const before = changes.before;
    return Object.fromEntries(
      Object.entries(changes.patch)
        .filter(([k, to]) => !same(isRecord(before[k]) ? before[k].name : before[k], to))
        .map(([k, to]) => [k, { from: before[k], to }]),
    );
  }
  return isRecord(changes) ? { changes: { from: undefined, to: changes } } : {};
}

/** "Role: Agent → Admin", one line per changed field; a creation says only what was set. */
export function changeLines(event: AuditEvent, names: Names): string[] {
  const diff = { ...diffOf(event) };
  // Setting a role directly moves both the direct and the effective role: one line says it.
  const direct = diff.direct_role_id;
  if (direct && diff.role_id && same(direct, diff.role_id)) delete diff.direct_role_id;
  const created = event.action.endsWith('.created');
  return Object.entries(diff).map(([field, { from, to }]) => {
    const label = FIELD[field] ?? field;
    return created && (from === null || from === undefined)
      ? `${label}: ${show(field, to, names)}`
      : `${label}: ${show(field, from, names)} → ${show(field, to, names)}`;
  });
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** What else the event says: why a SCIM request was refused, why a role moved, how a group changed. */
export function detailLines(event: AuditEvent): { reason: string | null; notes: string[] } {
  const d = isRecord(event.details) ? event.details : {};
  const notes: string[] = [];
  let reason: string | null = null;
  if (event.action === 'scim.rejected') {
    const code = [d.status, d.scimType].filter((x) => typeof x === 'number' || typeof x === 'string');
    reason = `Refused with ${code.join(' ') || 'an error'}${typeof d.detail === 'string' ? `: ${d.detail}` : ''}`;
    if (typeof d.userName === 'string') notes.push(`Sent userName: ${d.userName}`);
    if (typeof d.displayName === 'string') notes.push(`Sent displayName: ${d.displayName}`);
  }
  if (d.reason === 'group_membership')
    notes.push(
      `Through membership of the group ${typeof d.groupName === 'string' ? d.groupName : ''}`.trim(),
    );
  if (d.reason === 'role_rank') notes.push('A role’s rank changed');
  if (num(d.membersAdded) > 0) notes.push(`${plural(num(d.membersAdded), 'member')} added`);
  if (num(d.membersRemoved) > 0) notes.push(`${plural(num(d.membersRemoved), 'member')} removed`);
  if (d.invitation === 'queued') notes.push('Invitation e-mail queued');
  if (event.targetType === 'import' && isRecord(d.error) && typeof d.error.message === 'string')
    reason = d.error.message;
  if (event.targetType === 'import' && isRecord(d.counts)) {
    const counts = Object.entries(d.counts).filter(([, n]) => num(n) > 0);
    notes.push(counts.map(([what, n]) => `${num(n)} ${what}`).join(', ') || 'No rows');
  }
  if (typeof d.operation === 'string') notes.push(d.operation);
  return { reason, notes };
}

/** What the event itself says about its user, for one the app cannot look up (deleted, or no scope). */
export function userHint(event: AuditEvent): string | null {
  const c = isRecord(event.changes) ? event.changes : {};
  const d = isRecord(event.details) ? event.details : {};
  const email = isRecord(c.email) ? (c.email.to ?? c.email.from) : undefined;
  if (typeof email === 'string') return email;
  return typeof d.userName === 'string' ? d.userName : null;
}
