import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf } from '../api';
import { IDP_OVERWRITES, managedByPhrase } from '../hints';
import type { Ref, Role, User } from '../types';
import { ConfirmDialog } from './ConfirmDialog';

interface Props {
  /** The user to edit; absent: a new user. */
  user?: User;
  roles: Role[];
  locations: Ref[];
  onSaved: (user: User, addAnother: boolean) => void;
  onClose: () => void;
}

const FIELD_OF: Record<string, string> = {
  invalid_email: 'email',
  missing_email: 'email',
  email_taken: 'email',
  user_name_taken: 'email',
  missing_name: 'name',
  name_too_long: 'name',
  unknown_role: 'role',
  role_managed_by_identity_provider: 'role',
  unknown_location: 'location',
};

/** Add User (with “Save and add another”) or Edit (name, role, location), in a modal dialog. */
export function UserDialog({ user, roles, locations, onSaved, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLInputElement>(null);
  const defaultRole = roles.find((r) => r.isDefault)?.name ?? roles[0]?.name ?? '';
  const blank = { name: '', email: '', role: defaultRole, location: '', sendInvite: true };
  const [form, setForm] = useState(
    user
      ? {
          name: user.name,
          email: user.email ?? '',
          role: user.role.name,
          location: user.location?.name ?? '',
          sendInvite: false,
        }
      : blank,
  );
  const [problem, setProblem] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // Saving a user an identity provider manages asks first: the provider may overwrite the change.
  const [asking, setAsking] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
    first.current?.focus();
  }, []);

  const set = (key: keyof typeof form) => (e: Event) => {
    const target = e.target as HTMLInputElement;
    setForm((f) => ({ ...f, [key]: target.type === 'checkbox' ? target.checked : target.value }));
  };

  const save = async (addAnother: boolean) => {
    setBusy(true);
    setProblem(null);
    try {
      const saved = user
        ? await api<User>('PATCH', `/v1/users/${user.id}`, {
            name: form.name,
            role: form.role,
            location: form.location || null,
          })
        : await api<User>('POST', '/v1/users', {
            name: form.name,
            email: form.email,
            role: form.role,
            ...(form.location ? { location: form.location } : {}),
            sendInvite: form.sendInvite,
          });
      onSaved(saved, addAnother);
      if (addAnother) {
        setForm({ ...blank, role: form.role, location: form.location, sendInvite: form.sendInvite });
        first.current?.focus();
      }
    } catch (error) {
      setProblem(problemOf(error, FIELD_OF));
    } finally {
      setBusy(false);
    }
  };

  const invalid = (field: string) =>
    problem?.field === field ? { 'aria-invalid': 'true' as const, 'aria-describedby': 'user-problem' } : {};
  const title = user ? `Edit ${user.name}` : 'Add user';

  return (
    <dialog ref={dialog} aria-labelledby="user-dialog-title" onClose={onClose} onCancel={onClose}>
      <form
        method="dialog"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (user?.managedBy) setAsking(true);
          else void save(false);
        }}
      >
        <h2 id="user-dialog-title">{title}</h2>
        {user?.managedBy && (
          <p class="warning">{`Managed by ${managedByPhrase(user.managedBy)}. ${IDP_OVERWRITES}`}</p>
        )}
        <label for="user-name">Name</label>
        <input
          id="user-name"
          ref={first}
          value={form.name}
          onInput={set('name')}
          required
          autoComplete="off"
          {...invalid('name')}
        />
        <label for="user-email">E-mail</label>
        <input
          id="user-email"
          type="email"
          value={form.email}
          onInput={set('email')}
          required
          disabled={Boolean(user)}
          autoComplete="off"
          {...invalid('email')}
        />
        <label for="user-role">Role</label>
        <select id="user-role" value={form.role} onChange={set('role')} {...invalid('role')}>
          {roles.map((r) => (
            <option key={r.id} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
        <label for="user-location">Location</label>
        <select id="user-location" value={form.location} onChange={set('location')} {...invalid('location')}>
          <option value="">No location</option>
          {locations.map((l) => (
            <option key={l.id} value={l.name}>
              {l.name}
            </option>
          ))}
        </select>
        {!user && (
          <div class="field check">
            <input id="user-invite" type="checkbox" checked={form.sendInvite} onChange={set('sendInvite')} />
            <label for="user-invite">Send an invitation e-mail</label>
          </div>
        )}
        {problem && (
          <p id="user-problem" class="alert" role="alert">
            {problem.message}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
          {!user && (
            <button type="button" disabled={busy} onClick={() => void save(true)}>
              Save and add another
            </button>
          )}
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
      {asking && user?.managedBy && (
        <ConfirmDialog
          title={`Save changes to ${user.name}?`}
          confirmLabel="Save anyway"
          onConfirm={() => {
            setAsking(false);
            void save(false);
          }}
          onClose={() => setAsking(false)}
        >
          <p>{`${user.name} is managed by ${managedByPhrase(user.managedBy)}. ${IDP_OVERWRITES}`}</p>
        </ConfirmDialog>
      )}
    </dialog>
  );
}
