import { useEffect, useRef } from 'preact/hooks';
import { managedByLabel } from '../hints';
import { BASE } from '../router';
import type { Selection } from '../selection';
import type { User } from '../types';
import { Badge, Link, when } from '../ui';

const INVITATION: Record<string, string> = {
  pending: 'invitation pending',
  accepted: 'invitation accepted',
  expired: 'invitation expired',
  revoked: 'invitation withdrawn',
};

export type RowAction = 'edit' | 'resend' | 'deactivate' | 'reactivate';

interface Props {
  users: User[];
  busy: boolean;
  selection: Selection;
  /** The token may read the provisioning log: each row links to the person's history. */
  history: boolean;
  onAction: (user: User, action: RowAction) => void;
}

/** The "all on this page" box: ticked when every row is, half-ticked when some are. */
function PageCheckbox({ users, selection }: { users: User[]; selection: Selection }) {
  const box = useRef<HTMLInputElement>(null);
  const picked = users.filter((u) => selection.users.has(u.id)).length;
  const all = picked === users.length && picked > 0;
  useEffect(() => {
    if (box.current) box.current.indeterminate = picked > 0 && !all;
  }, [picked, all]);
  return (
    <input
      ref={box}
      type="checkbox"
      aria-label="Select all on this page"
      checked={all}
      disabled={selection.loading}
      onChange={() => selection.setPage(users, !all)}
    />
  );
}

/** One page of users, each with a box to select it and its own actions. */
export function UsersTable({ users, busy, selection, history, onAction }: Props) {
  return (
    <div class="table-wrap" aria-busy={busy}>
      <table class="stack users">
        <caption class="visually-hidden">Users</caption>
        <thead>
          <tr>
            <th scope="col" class="pick">
              <PageCheckbox users={users} selection={selection} />
            </th>
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
          {users.map((u) => (
            <tr key={u.id} class={selection.users.has(u.id) ? 'picked' : undefined}>
              <td class="pick">
                <input
                  type="checkbox"
                  aria-label={`Select ${u.name}`}
                  checked={selection.users.has(u.id)}
                  disabled={selection.loading}
                  onChange={() => selection.toggle(u)}
                />
              </td>
              <td data-label="Name">
                <strong>{u.name}</strong>
                <span class="sub">{u.email ?? 'no e-mail'}</span>
                {u.managedBy && <Badge status="idp" label={managedByLabel(u.managedBy)} />}
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
                <button type="button" onClick={() => onAction(u, 'edit')} aria-label={`Edit ${u.name}`}>
                  Edit
                </button>
                {u.status === 'invited' && (
                  <button
                    type="button"
                    onClick={() => onAction(u, 'resend')}
                    aria-label={`Resend invitation to ${u.name}`}
                  >
                    Resend invitation
                  </button>
                )}
                {u.status === 'deactivated' ? (
                  <button
                    type="button"
                    onClick={() => onAction(u, 'reactivate')}
                    aria-label={`Reactivate ${u.name}`}
                  >
                    Reactivate
                  </button>
                ) : (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => onAction(u, 'deactivate')}
                    aria-label={`Deactivate ${u.name}`}
                  >
                    Deactivate
                  </button>
                )}
                {history && (
                  <Link
                    href={`${BASE}/log?userId=${u.id}`}
                    class="button small-inline"
                    aria-label={`History of ${u.name}`}
                  >
                    History
                  </Link>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
