/** The events a workspace's feed and webhooks deliver, each an audit event whose action maps to a type. */
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

export interface EventJson {
  id: string;
  type: EventType;
  timestamp: string;
  workspaceId: string;
  data: Record<string, unknown>;
}

/**
 * The journal's actions each type is made of: an event is the audit event itself (the journal is the
 * outbox). A role moved by a group or a rank is `user.role_changed` in the journal, and to a
 * subscriber simply a changed user.
 */
export const ACTIONS_OF_TYPE: Readonly<Record<EventType, readonly string[]>> = {
  'user.created': ['user.created'],
  'user.updated': ['user.updated', 'user.role_changed'],
  'user.deactivated': ['user.deactivated'],
  'user.reactivated': ['user.reactivated'],
  'user.deleted': ['user.deleted'],
  'invitation.accepted': ['invitation.accepted'],
  'import.completed': ['import.completed'],
  'import.failed': ['import.failed'],
  'import.reverted': ['import.reverted'],
};

export const TYPE_OF_ACTION: ReadonlyMap<string, EventType> = new Map(
  EVENT_TYPES.flatMap((type) => ACTIONS_OF_TYPE[type].map((action) => [action, type] as const)),
);

export const isEventType = (value: string): value is EventType =>
  (EVENT_TYPES as readonly string[]).includes(value);

/** The journal's actions of the given types (every type when none are given). */
export const actionsOf = (types?: readonly EventType[]): string[] =>
  [...new Set((types && types.length > 0 ? types : EVENT_TYPES).flatMap((t) => ACTIONS_OF_TYPE[t]))].sort();
