import { useState } from 'preact/hooks';
import { api, query, type Page } from '../api';
import { useLoad, usePaged } from '../hooks';
import type { Ref, Role, User, UserStatus } from '../types';
import { Badge, ErrorBox, Pager, when } from '../ui';
import { UserDialog } from './UserDialog';

interface Filters {
  q: string;
  status: UserStatus | '';
  role: string;
  location: string;
}

const INVITATION: Record<string, string> = {
  pending: 'invitation pending',
  accepted: 'invitation accepted',
  expired: 'invitation expired',
  revoked: 'invitation withdrawn',
};

export function UsersPage() {
  const [filters, setFilters] = useState<Filters>({ q: '', status: '', role: '', location: '' });
  const [search, setSearch] = useState('');
  const [dialog, setDialog] = useState<{ user?: User } | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<unknown>(null);
  const roles = useLoad('roles', () => api<Page<Role>>('GET', '/v1/roles?limit=1000'));
  const locations = useLoad('locations', () => api<Page<Ref>>('GET', '/v1/locations?limit=1000'));
  const paged = usePaged(JSON.stringify(filters), (cursor) =>
    api<Page<User>>('GET', `/v1/users${query({ ...filters, cursor, limit: 25 })}`),
  );

  const change = (key: keyof Filters) => (e: Event) =>
    setFilters((f) => ({ ...f, [key]: (e.target as HTMLSelectElement).value }));

  const act = async (user: User, action: 'resend' | 'deactivate' | 'reactivate') => {
    if (
      action === 'deactivate' &&
      !window.confirm(`Deactivate ${user.name}? They lose access until reactivated.`)
    )
      return;
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
      <section class="panel" aria-labelledby="users-title">
        <h2 id="users-title" class="visually-hidden">
          Results
        </h2>
        {paged.page && paged.page.data.length === 0 && <p class="muted">No users match.</p>}
        {paged.page && paged.page.data.length > 0 && (
          <div class="table-wrap" aria-busy={paged.loading}>
            <table class="stack">
              <caption class="visually-hidden">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Role</th>
                  <th scope="col">Location</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {paged.page.data.map((u) => (
                  <tr key={u.id}>
                    <td data-label="Name">
                      <strong>{u.name}</strong>
                      <span class="sub">{u.email ?? 'no e-mail'}</span>
                    </td>
                    <td data-label="Status">
                      <Badge status={u.status} />
                      {u.status === 'invited' && u.invitation && (
                        <span class="sub">{INVITATION[u.invitation.status]}</span>
                      )}
                    </td>
                    <td data-label="Role">{u.role.name}</td>
                    <td data-label="Location">{u.location?.name ?? '—'}</td>
                    <td data-label="Added">{when(u.createdAt)}</td>
                    <td class="row-actions">
                      <button
                        type="button"
                        onClick={() => setDialog({ user: u })}
                        aria-label={`Edit ${u.name}`}
                      >
                        Edit
                      </button>
                      {u.status === 'invited' && (
                        <button
                          type="button"
                          onClick={() => void act(u, 'resend')}
                          aria-label={`Resend invitation to ${u.name}`}
                        >
                          Resend invitation
                        </button>
                      )}
                      {u.status === 'deactivated' ? (
                        <button
                          type="button"
                          onClick={() => void act(u, 'reactivate')}
                          aria-label={`Reactivate ${u.name}`}
                        >
                          Reactivate
                        </button>
                      ) : (
                        <button
                          type="button"
                          class="danger"
                          onClick={() => void act(u, 'deactivate')}
                          aria-label={`Deactivate ${u.name}`}
                        >
                          Deactivate
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager label="Users" paged={paged} />
      </section>
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
