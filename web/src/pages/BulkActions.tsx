import { useState } from 'preact/hooks';
import { api } from '../api';
import { IDP_OVERWRITES, managedByPhrase } from '../hints';
import { MAX_SELECTION, type Selection } from '../selection';
import type { BulkAction, BulkAnswer, Ref, Role, User } from '../types';
import { ErrorBox, number, plural } from '../ui';
import { ConfirmDialog } from './ConfirmDialog';

const people = (n: number) => plural(n, 'person', 'people');

interface Copy {
  button: string;
  title: (n: number) => string;
  /** The button's words; `value` is what the dialog chose (undefined: nothing yet; null: none). */
  confirm: (n: number, value: string | null | undefined) => string;
  explain: string;
  danger?: boolean;
  /** The identity provider owns this: say it may overwrite the change. */
  overwritten: boolean;
}

const COPY: Record<BulkAction, Copy> = {
  deactivate: {
    button: 'Deactivate',
    title: (n) => `Deactivate ${people(n)}?`,
    confirm: (n) => `Deactivate ${people(n)}`,
    explain: 'They lose access until reactivated, and open invitations are withdrawn.',
    danger: true,
    overwritten: true,
  },
  reactivate: {
    button: 'Reactivate',
    title: (n) => `Reactivate ${people(n)}?`,
    confirm: (n) => `Reactivate ${people(n)}`,
    explain:
      'People who had accepted their invitation are active again; the others get a new invitation. People who are not deactivated stay as they are.',
    overwritten: true,
  },
  resend_invitation: {
    button: 'Resend invitation',
    title: (n) => `Resend the invitation to ${people(n)}?`,
    confirm: (n) => `Resend ${plural(n, 'invitation')}`,
    explain:
      'Each gets a new link and the old one stops working. People who are not invited (active or deactivated) are skipped.',
    overwritten: false,
  },
  set_role: {
    button: 'Set role…',
    title: (n) => `Set the role of ${people(n)}?`,
    confirm: (_n, value) => (value ? `Set role to ${value}` : 'Set role'),
    explain:
      'A role that comes from the identity provider’s groups cannot be changed here: those people keep theirs and are listed as failed.',
    overwritten: true,
  },
  set_location: {
    button: 'Set location…',
    title: (n) => `Set the location of ${people(n)}?`,
    confirm: (_n, value) =>
      value === undefined
        ? 'Set location'
        : value === null
          ? 'Remove the location'
          : `Set location to ${value}`,
    explain: 'Choose a location, or none to remove it.',
    overwritten: true,
  },
  delete: {
    button: 'Delete',
    title: (n) => `Delete ${people(n)}?`,
    confirm: (n) => `Delete ${people(n)}`,
    explain:
      'They disappear from every list and can no longer sign in; their e-mail addresses are free again. The provisioning log keeps what happened. This cannot be undone here.',
    danger: true,
    overwritten: true,
  },
};

const ORDER: BulkAction[] = [
  'deactivate',
  'reactivate',
  'resend_invitation',
  'set_role',
  'set_location',
  'delete',
];
/** The location select's values: '' nothing chosen yet, 'none', or '=' and a location's name. */
const NO_LOCATION = 'none';

/** "3 of them are managed by an identity provider (SCIM)." or null when none is. */
function managedNote(users: User[]): string | null {
  const managed = users.filter((u) => u.managedBy);
  if (managed.length === 0) return null;
  const names = [...new Set(managed.map((u) => managedByPhrase(u.managedBy!)))].join(' or ');
  const who =
    users.length === 1
      ? `${users[0]!.name} is`
      : managed.length === users.length
        ? 'All of them are'
        : `${number(managed.length)} of them ${managed.length === 1 ? 'is' : 'are'}`;
  return `${who} managed by ${names}.`;
}

interface Props {
  selection: Selection;
  /** The list holds more than this page: offer to select everyone matching the filter. */
  morePages: boolean;
  roles: Role[];
  locations: Ref[];
  onDone: (answer: BulkAnswer, users: Map<string, User>) => void;
}

/** What is selected, how to select more, and the actions on the selection, each behind a question. */
export function BulkActions({ selection, morePages, roles, locations, onDone }: Props) {
  const [action, setAction] = useState<BulkAction | null>(null);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const n = selection.users.size;

  const copy = action ? COPY[action] : null;
  const chosen =
    value === ''
      ? undefined
      : action !== 'set_location'
        ? value
        : value === NO_LOCATION
          ? null
          : value.slice(1);

  const open = (next: BulkAction) => {
    setAction(next);
    setValue('');
    setError(null);
  };

  const run = async () => {
    if (!action) return;
    setBusy(true);
    setError(null);
    const users = selection.users;
    const body: { action: BulkAction; ids: string[]; value?: string | null } = {
      action,
      ids: [...users.keys()],
    };
    if (action === 'set_role' || action === 'set_location') body.value = chosen ?? null;
    try {
      const answer = await api<BulkAnswer>('POST', '/v1/users/bulk', body);
      setAction(null);
      onDone(answer, users);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const note = copy?.overwritten ? managedNote([...selection.users.values()]) : null;

  return (
    <section class="bulk-bar" aria-label="Selected users">
      <p class="bulk-count" aria-live="polite">
        {selection.loading
          ? 'Selecting everyone who matches the filter…'
          : n === 0
            ? 'No one selected. Tick people in the list to act on several at once.'
            : selection.allMatching && !selection.capped
              ? `All ${people(n)} matching the filter are selected.`
              : `${people(n)} selected.`}
      </p>
      {selection.capped === 'more_match' && (
        <p class="warning">
          More than {number(MAX_SELECTION)} people match the filter: the first {number(MAX_SELECTION)} (oldest
          first) are selected. Narrow the filter, or act on these and select again.
        </p>
      )}
      {selection.capped === 'full' && (
        <p class="warning">At most {number(MAX_SELECTION)} people can be selected at a time.</p>
      )}
      {selection.error !== null && <ErrorBox error={selection.error} what="Users" />}
      <div class="actions">
        {(morePages || selection.allMatching) && (
          <button type="button" disabled={selection.loading} onClick={() => void selection.selectMatching()}>
            Select all matching the filter (up to {number(MAX_SELECTION)})
          </button>
        )}
        {n > 0 && (
          <button type="button" onClick={selection.clear}>
            Clear selection
          </button>
        )}
      </div>
      <div class="actions" role="group" aria-label="Act on the selected users">
        {ORDER.map((a) => (
          <button
            key={a}
            type="button"
            class={COPY[a].danger ? 'danger' : undefined}
            disabled={n === 0 || selection.loading}
            onClick={() => open(a)}
          >
            {COPY[a].button}
          </button>
        ))}
      </div>
      {action && copy && (
        <ConfirmDialog
          title={copy.title(n)}
          confirmLabel={copy.confirm(n, chosen)}
          {...(copy.danger ? { danger: true } : {})}
          busy={busy}
          ready={(action !== 'set_role' && action !== 'set_location') || chosen !== undefined}
          onConfirm={() => void run()}
          onClose={() => setAction(null)}
        >
          <p>{copy.explain}</p>
          {action === 'set_role' && (
            <>
              <label for="bulk-role">Role</label>
              <select
                id="bulk-role"
                value={value}
                onChange={(e) => setValue((e.target as HTMLSelectElement).value)}
              >
                <option value="">Choose a role</option>
                {roles.map((r) => (
                  <option key={r.id} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
            </>
          )}
          {action === 'set_location' && (
            <>
              <label for="bulk-location">Location</label>
              <select
                id="bulk-location"
                value={value}
                onChange={(e) => setValue((e.target as HTMLSelectElement).value)}
              >
                <option value="">Choose a location</option>
                <option value={NO_LOCATION}>No location</option>
                {locations.map((l) => (
                  <option key={l.id} value={`=${l.name}`}>
                    {l.name}
                  </option>
                ))}
              </select>
            </>
          )}
          {note && (
            <p class="warning">
              {note} {IDP_OVERWRITES}
            </p>
          )}
          {error !== null && <ErrorBox error={error} what="Users" />}
        </ConfirmDialog>
      )}
    </section>
  );
}
