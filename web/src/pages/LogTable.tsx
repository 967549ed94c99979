import { actorOf, changeLines, detailLines, sourceOf, userHint, ACTION_LABEL, type Names } from '../audit';
import type { Person } from '../people';
import { BASE } from '../router';
import type { AuditEvent } from '../types';
import { Link, when } from '../ui';

interface Props {
  events: AuditEvent[];
  busy: boolean;
  people: Map<string, Person | null>;
  names: Names;
  ownToken: string | undefined;
  onUser: (userId: string) => void;
}

/** What an event without a user is about: a group (a role), a location, the settings. */
function target(event: AuditEvent, names: Names): string {
  const id = event.targetId;
  if (event.targetType === 'group') return id ? `Group ${names.role(id)}` : 'A group';
  if (event.targetType === 'location') return id ? `Location ${names.location(id)}` : 'A location';
  if (event.targetType === 'settings') return 'Workspace settings';
  if (event.targetType === 'webhook') return 'A webhook endpoint';
  if (event.targetType === 'import') return 'An import';
  // A refused SCIM create names no user yet: what it sent, if anything.
  if (event.targetType === 'user') return userHint(event) ?? '—';
  return event.targetType;
}

function Who({
  event,
  people,
  names,
  onUser,
}: Pick<Props, 'people' | 'names' | 'onUser'> & { event: AuditEvent }) {
  if (!event.userId) return <span>{target(event, names)}</span>;
  const person = people.get(event.userId);
  const hint = userHint(event);
  const [name, sub] = person
    ? [person.name, person.email ?? 'no e-mail']
    : person === null
      ? ['Deleted user', hint ?? event.userId]
      : [hint ?? 'A user', event.userId];
  return (
    <>
      <button
        type="button"
        class="link"
        title="Show only this person’s events"
        onClick={() => onUser(event.userId!)}
      >
        {name}
      </button>
      <span class="sub">{sub}</span>
    </>
  );
}

/** One page of the provisioning log: when, who, from where, what, to whom, and each before → after. */
export function LogTable({ events, busy, people, names, ownToken, onUser }: Props) {
  return (
    <div class="table-wrap" aria-busy={busy}>
      <table class="stack log">
        <caption class="visually-hidden">Provisioning log</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">User</th>
            <th scope="col">Changes</th>
            <th scope="col">Source</th>
            <th scope="col">Who</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => {
            const source = sourceOf(e.source);
            const lines = changeLines(e, names);
            const { reason, notes } = detailLines(e);
            const actor = actorOf(e.actor, ownToken);
            return (
              <tr key={e.id} class={e.action === 'scim.rejected' ? 'refused' : undefined}>
                <td data-label="When">{when(e.createdAt)}</td>
                <td data-label="What">
                  <strong>{ACTION_LABEL[e.action] ?? e.action}</strong>
                  <span class="code">{e.action}</span>
                </td>
                <td data-label="User" class="wrap person">
                  <Who event={e} people={people} names={names} onUser={onUser} />
                </td>
                <td data-label="Changes" class="wrap">
                  {reason && <strong class="reason">{reason}</strong>}
                  {lines.length > 0 && (
                    <ul class="changes">
                      {lines.map((line) => (
                        <li key={line}>{line}</li>
                      ))}
                    </ul>
                  )}
                  {notes.map((n) => (
                    <span key={n} class="sub">
                      {n}
                    </span>
                  ))}
                </td>
                <td data-label="Source">
                  {source.importId ? (
                    <Link href={`${BASE}/imports/${source.importId}`} title={`Import ${source.importId}`}>
                      {source.label}
                    </Link>
                  ) : (
                    source.label
                  )}
                </td>
                <td data-label="Who">
                  {actor.label}
                  {actor.token && <span class="sub">token {actor.token}</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
