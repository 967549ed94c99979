import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemOf } from '../api';
import { fixFor } from '../hints';
import type { ImportRow, Ref, Role } from '../types';

interface Props {
  importId: string;
  row: ImportRow;
  roles: Role[];
  locations: Ref[];
  onSaved: (row: ImportRow) => void;
  onClose: () => void;
}

const FIELD_OF: Record<string, string> = {
  invalid_email: 'email',
  missing_email: 'email',
  name_too_long: 'name',
  missing_name: 'name',
  unknown_role: 'role',
  unknown_location: 'location',
};

/**
 * Corrects a failed row in place: the error and how to fix it on top, the e-mail and name as text, the
 * role and location chosen from the workspace's own (the file's value kept as an option, marked, so
 * nothing changes unless chosen). Saving does not run the row: "Retry failed rows" does.
 */
export function RowFixDialog({ importId, row, roles, locations, onSaved, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLInputElement>(null);
  const same = (a: string, b: string | null) => a.toLowerCase() === (b ?? '').toLowerCase();
  const original = {
    email: row.email ?? '',
    name: row.name ?? '',
    // A known role or location written in another case is shown selected, in the workspace's spelling.
    role: roles.find((r) => same(r.name, row.role))?.name ?? row.role ?? '',
    location: locations.find((l) => same(l.name, row.location))?.name ?? row.location ?? '',
  };
  const [form, setForm] = useState(original);
  const [problem, setProblem] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const knownRole = roles.some((r) => r.name === original.role);
  const knownLocation = locations.some((l) => l.name === original.location);

  useEffect(() => {
    dialog.current?.showModal();
    first.current?.focus();
  }, []);

  const set = (key: keyof typeof form) => (e: Event) =>
    setForm((f) => ({ ...f, [key]: (e.target as HTMLInputElement).value }));

  const save = async () => {
    const changed = Object.fromEntries(
      (Object.keys(form) as (keyof typeof form)[])
        .filter((k) => form[k] !== original[k])
        .map((k) => [k, form[k]]),
    );
    if (Object.keys(changed).length === 0) {
      setProblem({ field: '', message: 'Nothing was changed.' });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onSaved(await api<ImportRow>('PATCH', `/v1/imports/${importId}/rows/${row.row}`, changed));
      dialog.current?.close();
    } catch (error) {
      setProblem(problemOf(error, FIELD_OF));
    } finally {
      setBusy(false);
    }
  };

  const invalid = (field: string) =>
    problem?.field === field ? { 'aria-invalid': 'true' as const, 'aria-describedby': 'fix-problem' } : {};

  return (
    <dialog ref={dialog} aria-labelledby="fix-dialog-title" onClose={onClose} onCancel={onClose}>
      <form
        method="dialog"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <h2 id="fix-dialog-title">Correct row {row.row}</h2>
        <p class="alert">
          <strong>{row.errorMessage ?? row.errorCode}</strong> {fixFor(row.errorCode)}
        </p>
        <label for="fix-email">E-mail</label>
        <input
          id="fix-email"
          ref={first}
          type="email"
          value={form.email}
          onInput={set('email')}
          autoComplete="off"
          {...invalid('email')}
        />
        <label for="fix-name">Name</label>
        <input
          id="fix-name"
          value={form.name}
          onInput={set('name')}
          autoComplete="off"
          {...invalid('name')}
        />
        <label for="fix-role">Role</label>
        <select id="fix-role" value={form.role} onChange={set('role')} {...invalid('role')}>
          <option value="">The default role</option>
          {original.role && !knownRole && (
            <option value={original.role}>{original.role} (not a role here)</option>
          )}
          {roles.map((r) => (
            <option key={r.id} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
        <label for="fix-location">Location</label>
        <select id="fix-location" value={form.location} onChange={set('location')} {...invalid('location')}>
          <option value="">No location</option>
          {original.location && !knownLocation && (
            <option value={original.location}>{original.location} (not a location here)</option>
          )}
          {locations.map((l) => (
            <option key={l.id} value={l.name}>
              {l.name}
            </option>
          ))}
        </select>
        <p class="muted">
          A missing role or location can be added under Settings. The correction runs when you choose “Retry
          failed rows”.
        </p>
        {problem && (
          <p id="fix-problem" class="alert" role="alert">
            {problem.message}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Save correction
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
