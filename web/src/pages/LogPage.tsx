import { useEffect, useState } from 'preact/hooks';
import { api, query, type Page } from '../api';
import { ACTION_LABEL, SOURCES, type Names } from '../audit';
import { useLoad, usePaged } from '../hooks';
import { usePeople } from '../people';
import { BASE, navigate, useLocation } from '../router';
import { currentSession } from '../session';
import type { AuditEvent, Ref, User } from '../types';
import { ErrorBox, Pager } from '../ui';
import { LogTable } from './LogTable';

const KEYS = ['source', 'userId', 'action', 'since', 'until'] as const;
type Filters = Record<(typeof KEYS)[number], string>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An ISO instant as a datetime-local value in the browser's time zone, and back. */
function toLocal(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const fromLocal = (value: string): string => (value ? new Date(value).toISOString() : '');

const names = (roles: Ref[] | undefined, locations: Ref[] | undefined): Names => {
  const lookup = (list: Ref[] | undefined, what: string) => {
    const byId = new Map((list ?? []).map((r) => [r.id, r.name]));
    return (id: string) =>
      byId.get(id) ?? (list ? `a ${what} since removed (${id.slice(0, 8)}…)` : `${what} ${id.slice(0, 8)}…`);
  };
  return { role: lookup(roles, 'role'), location: lookup(locations, 'location') };
};

/**
 * The provisioning log: GET /v1/audit newest first, paged with its cursor. The filters live in the
 * address (`/app/log?userId=…`), so a user's History link, Back and a shared link all work.
 */
export function LogPage() {
  const { search } = useLocation();
  const filters = Object.fromEntries(KEYS.map((k) => [k, search.get(k) ?? ''])) as Filters;
  const session = currentSession();
  const canReadUsers = session?.scopes.includes('users') ?? false;
  const [draft, setDraft] = useState({ user: filters.userId, since: '', until: '' });
  const [problem, setProblem] = useState('');
  const key = KEYS.map((k) => filters[k]).join('|');
  useEffect(() => {
    setDraft({ user: filters.userId, since: toLocal(filters.since), until: toLocal(filters.until) });
    setProblem('');
  }, [key]);

  const roles = useLoad('roles', () =>
    canReadUsers ? api<Page<Ref>>('GET', '/v1/roles?limit=1000') : Promise.resolve(null),
  );
  const locations = useLoad('locations', () =>
    canReadUsers ? api<Page<Ref>>('GET', '/v1/locations?limit=1000') : Promise.resolve(null),
  );
  const paged = usePaged(key, (cursor) =>
    api<Page<AuditEvent>>('GET', `/v1/audit${query({ ...filters, cursor, limit: 50 })}`),
  );
  const events = paged.page?.data ?? [];
  const people = usePeople(
    [...events.map((e) => e.userId), filters.userId].filter((id): id is string =>
      Boolean(id && UUID.test(id)),
    ),
    canReadUsers,
  );

  const apply = (next: Partial<Filters>) => navigate(`${BASE}/log${query({ ...filters, ...next })}`);
  const change = (k: 'source' | 'action') => (e: Event) =>
    apply({ [k]: (e.target as HTMLSelectElement).value });

  /** The user box takes an id, or an e-mail the app looks up (a deleted user only by id). */
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem('');
    let userId = draft.user.trim();
    if (userId.includes('@') && canReadUsers) {
      try {
        const found = await api<Page<User>>('GET', `/v1/users${query({ q: userId, limit: 10 })}`);
        const match = found.data.find((u) => u.email?.toLowerCase() === userId.toLowerCase());
        if (!match) return setProblem(`No user of this workspace has the e-mail ${userId}.`);
        userId = match.id;
      } catch (e) {
        return setProblem(e instanceof Error ? e.message : 'Looking up the e-mail failed.');
      }
    } else if (userId && !UUID.test(userId)) {
      return setProblem(
        'A user id looks like 0190a1b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b: use the History link on the Users page, or type an e-mail.',
      );
    }
    apply({ userId, since: fromLocal(draft.since), until: fromLocal(draft.until) });
  };

  const person = filters.userId ? people.get(filters.userId) : undefined;
  const filtered = KEYS.some((k) => filters[k] !== '');

  return (
    <>
      <h1>Provisioning log</h1>
      <p class="muted">
        Every change to the workspace’s users, from every front door (identity provider, imports, API, bulk
        actions, the app), and every refused SCIM request: newest first.
      </p>
      <form class="panel filters" role="search" aria-label="Filter the log" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="log-source">Source</label>
          <select id="log-source" value={filters.source} onChange={change('source')}>
            {SOURCES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-action">Action</label>
          <select id="log-action" value={filters.action} onChange={change('action')}>
            <option value="">All actions</option>
            {Object.entries(ACTION_LABEL).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="log-user">User (id{canReadUsers ? ' or e-mail' : ''})</label>
          <input
            id="log-user"
            value={draft.user}
            autoComplete="off"
            onInput={(e) => setDraft({ ...draft, user: (e.target as HTMLInputElement).value })}
            {...(problem ? { 'aria-invalid': 'true' as const, 'aria-describedby': 'log-problem' } : {})}
          />
        </div>
        <div class="field">
          <label for="log-since">From</label>
          <input
            id="log-since"
            type="datetime-local"
            value={draft.since}
            onInput={(e) => setDraft({ ...draft, since: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field">
          <label for="log-until">Before</label>
          <input
            id="log-until"
            type="datetime-local"
            value={draft.until}
            onInput={(e) => setDraft({ ...draft, until: (e.target as HTMLInputElement).value })}
          />
        </div>
        <button type="submit">Show events</button>
        {filtered && (
          <button type="button" class="link clear" onClick={() => navigate(`${BASE}/log`)}>
            Clear filters
          </button>
        )}
      </form>
      {problem && (
        <p id="log-problem" class="alert" role="alert">
          {problem}
        </p>
      )}
      {filters.userId && (
        <p class="status-line" role="status">
          History of{' '}
          {person
            ? `${person.name}${person.email ? ` (${person.email})` : ''}`
            : person === null
              ? 'a deleted user'
              : filters.userId}
          .{' '}
          <button type="button" class="link" onClick={() => apply({ userId: '' })}>
            Show everyone
          </button>
        </p>
      )}
      {paged.error !== null && <ErrorBox error={paged.error} what="the provisioning log" />}
      <section class="panel" aria-labelledby="log-title">
        <h2 id="log-title" class="visually-hidden">
          Events
        </h2>
        {paged.page && events.length === 0 && (
          <p class="muted">{filtered ? 'No events match these filters.' : 'Nothing has happened yet.'}</p>
        )}
        {events.length > 0 && (
          <LogTable
            events={events}
            busy={paged.loading}
            people={people}
            names={names(roles.data?.data, locations.data?.data)}
            ownToken={session?.token}
            onUser={(userId) => apply({ userId })}
          />
        )}
        <Pager label="Events" paged={paged} />
      </section>
    </>
  );
}
