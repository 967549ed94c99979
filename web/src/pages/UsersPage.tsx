import { useState } from 'preact/hooks';
import { api, query, type Page } from '../api';
import { IDP_OVERWRITES, managedByPhrase } from '../hints';
import { useLoad, usePaged } from '../hooks';
import { useSelection } from '../selection';
import { currentSession } from '../session';
import type { BulkAnswer, Ref, Role, User, UserStatus } from '../types';
import { ErrorBox, Pager } from '../ui';
import { BulkActions } from './BulkActions';
import { BulkResult, bulkHeadline } from './BulkResult';
import { ConfirmDialog } from './ConfirmDialog';
import { UserDialog } from './UserDialog';
import { UsersTable, type RowAction } from './UsersTable';

interface Filters {
  q: string;
  status: UserStatus | '';
  role: string;
  location: string;
}

type Change = 'deactivate' | 'reactivate';

export function UsersPage() {
  const [filters, setFilters] = useState<Filters>({ q: '', status: '', role: '', location: '' });
  const [search, setSearch] = useState('');
  const [dialog, setDialog] = useState<{ user?: User } | null>(null);
  const [asking, setAsking] = useState<{ user: User; action: Change } | null>(null);
  const [outcome, setOutcome] = useState<{ answer: BulkAnswer; users: Map<string, User> } | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<unknown>(null);
  const roles = useLoad('roles', () => api<Page<Role>>('GET', '/v1/roles?limit=1000'));
  const locations = useLoad('locations', () => api<Page<Ref>>('GET', '/v1/locations?limit=1000'));
  const list = (cursor: string | null, limit: number) =>
    api<Page<User>>('GET', `/v1/users${query({ ...filters, cursor, limit })}`);
  const filterKey = JSON.stringify(filters);
  const paged = usePaged(filterKey, (cursor) => list(cursor, 25));
  const selection = useSelection(filterKey, list);
  const history = currentSession()?.scopes.includes('admin') ?? false;

  const change = (key: keyof Filters) => (e: Event) =>
    setFilters((f) => ({ ...f, [key]: (e.target as HTMLSelectElement).value }));

  const act = async (user: User, action: 'resend' | Change) => {
    setError(null);
    try {
      if (action === 'resend') await api('POST', `/v1/users/${user.id}/invitation`);
      else
        await api('PATCH', `/v1/users/${user.id}`, {
          status: action === 'deactivate' ? 'deactivated' : 'active',
        });
      setMessage(
        action === 'resend'
          ? `A new invitation is on its way to ${user.email}.`
          : `${user.name} was ${action === 'deactivate' ? 'deactivated' : 'reactivated'}.`,
      );
      paged.reload();
    } catch (e) {
      setError(e);
    }
  };

  const onRow = (user: User, action: RowAction) => {
    if (action === 'edit') setDialog({ user });
    else if (action === 'resend') void act(user, action);
    // A deactivation always asks; a reactivation asks only when an identity provider manages the user.
    else if (action === 'deactivate' || user.managedBy) setAsking({ user, action });
    else void act(user, action);
  };

  return (
    <>
      <div class="title-row">
        <h1>Users</h1>
        <button type="button" class="primary" disabled={!roles.data} onClick={() => setDialog({})}>
          Add user
        </button>
      </div>
      <p class="status-line" role="status">
        {message}
      </p>
      <form
        class="panel filters"
        role="search"
        aria-label="Find users"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters((f) => ({ ...f, q: search.trim() }));
        }}
      >
        <div class="field grow">
          <label for="q">Search name or e-mail</label>
          <input
            id="q"
            type="search"
            value={search}
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={change('status')}>
            <option value="">Any</option>
            <option value="invited">Invited</option>
            <option value="active">Active</option>
            <option value="deactivated">Deactivated</option>
          </select>
        </div>
        <div class="field">
          <label for="f-role">Role</label>
          <select id="f-role" value={filters.role} onChange={change('role')}>
            <option value="">Any</option>
            {roles.data?.data.map((r) => (
              <option key={r.id}>{r.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-location">Location</label>
          <select id="f-location" value={filters.location} onChange={change('location')}>
            <option value="">Any</option>
            {locations.data?.data.map((l) => (
              <option key={l.id}>{l.name}</option>
            ))}
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      {(error ?? paged.error) !== null && <ErrorBox error={error ?? paged.error} what="Users" />}
      {outcome && (
        <BulkResult answer={outcome.answer} users={outcome.users} onDismiss={() => setOutcome(null)} />
      )}
      <section class="panel" aria-labelledby="users-title">
        <h2 id="users-title" class="visually-hidden">
          Results
        </h2>
        <BulkActions
          selection={selection}
          morePages={Boolean(paged.page?.nextCursor) || paged.hasPrev}
          roles={roles.data?.data ?? []}
          locations={locations.data?.data ?? []}
          onDone={(answer, users) => {
            setOutcome({ answer, users });
            setMessage(bulkHeadline(answer));
            selection.clear();
            paged.reload();
          }}
        />
        {paged.page && paged.page.data.length === 0 && <p class="muted">No users match.</p>}
        {paged.page && paged.page.data.length > 0 && (
          <UsersTable
            users={paged.page.data}
            busy={paged.loading}
            selection={selection}
            history={history}
            onAction={onRow}
          />
        )}
        <Pager label="Users" paged={paged} />
      </section>
      {asking && (
        <ConfirmDialog
          title={`${asking.action === 'deactivate' ? 'Deactivate' : 'Reactivate'} ${asking.user.name}?`}
          confirmLabel={asking.action === 'deactivate' ? 'Deactivate' : 'Reactivate'}
          {...(asking.action === 'deactivate' ? { danger: true } : {})}
          onConfirm={() => {
            void act(asking.user, asking.action);
            setAsking(null);
          }}
          onClose={() => setAsking(null)}
        >
          {asking.action === 'deactivate' && <p>They lose access until reactivated.</p>}
          {asking.user.managedBy && (
            <p class="warning">
              {`${asking.user.name} is managed by ${managedByPhrase(asking.user.managedBy)}. ${IDP_OVERWRITES}`}
            </p>
          )}
        </ConfirmDialog>
      )}
      {dialog && roles.data && (
        <UserDialog
          {...(dialog.user ? { user: dialog.user } : {})}
          roles={roles.data.data}
          locations={locations.data?.data ?? []}
          onSaved={(user, addAnother) => {
            setMessage(dialog.user ? `Saved ${user.name}.` : `Added ${user.name} (${user.email}).`);
            paged.reload();
            if (!addAnother) setDialog(null);
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </>
  );
}
