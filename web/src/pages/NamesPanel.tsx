import { useState } from 'preact/hooks';
import { api, type Page } from '../api';
import { useLoad } from '../hooks';
import type { Ref, Role } from '../types';
import { ErrorBox } from '../ui';

type Kind = 'roles' | 'locations';

const WORDS: Record<Kind, { one: string; title: string; help: string }> = {
  roles: {
    one: 'role',
    title: 'Roles',
    help: 'Highest rank first. A person in several identity-provider groups gets the highest-ranked of their roles, so moving a role moves its members at once.',
  },
  locations: {
    one: 'location',
    title: 'Locations',
    help: 'Renaming a location keeps its people at it.',
  },
};

/** One row: the name, Rename in place, and for roles Move up / Move down. */
function NameRow(props: {
  kind: Kind;
  item: Ref;
  onRename: (name: string) => Promise<void>;
  moves?: { up?: () => Promise<void>; down?: () => Promise<void> } | undefined;
}) {
  const { kind, item, onRename, moves } = props;
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(item.name);
  const id = `${kind}-${item.id}`;
  return (
    <li class="name-row">
      {editing ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void onRename(name)
              .then(() => setEditing(false))
              .catch(() => undefined); // the panel shows the error
          }}
        >
          <label for={id} class="visually-hidden">
            New name for {item.name}
          </label>
          <input id={id} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <button type="submit" class="small-inline primary">
            Save
          </button>
          <button type="button" class="small-inline" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <span class="name">{item.name}</span>
          <span class="row-actions">
            <button type="button" aria-label={`Rename ${item.name}`} onClick={() => setEditing(true)}>
              Rename
            </button>
            {moves && (
              <>
                <button
                  type="button"
                  disabled={!moves.up}
                  aria-label={`Move ${item.name} up`}
                  onClick={() => void moves.up?.().catch(() => undefined)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  disabled={!moves.down}
                  aria-label={`Move ${item.name} down`}
                  onClick={() => void moves.down?.().catch(() => undefined)}
                >
                  ↓
                </button>
              </>
            )}
          </span>
        </>
      )}
    </li>
  );
}

/**
 * The workspace's roles or locations: add, rename, and for roles reorder by rank, so that an unknown
 * role or location in an import can be fixed without leaving the app. Roles need the `admin` scope.
 */
export function NamesPanel({ kind, onChange }: { kind: Kind; onChange?: () => void }) {
  const words = WORDS[kind];
  const list = useLoad(kind, () => api<Page<Role>>('GET', `/v1/${kind}?limit=1000`));
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');

  const act = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setStatus('');
    try {
      await what();
      setStatus(done);
      list.reload();
      onChange?.();
    } catch (e) {
      setError(e);
      throw e;
    }
  };
  const items = list.data?.data ?? [];
  // Moving a role above its neighbour: swap their ranks (or outrank it by one where they tie).
  const move = (i: number, j: number) => async () => {
    const a = items[i] as Role;
    const b = items[j] as Role;
    await act(
      async () => {
        if (a.rank === b.rank) {
          await api('PATCH', `/v1/roles/${a.id}`, { rank: j < i ? b.rank + 1 : b.rank - 1 });
        } else {
          await api('PATCH', `/v1/roles/${a.id}`, { rank: b.rank });
          await api('PATCH', `/v1/roles/${b.id}`, { rank: a.rank });
        }
      },
      `Moved ${a.name} ${j < i ? 'up' : 'down'}.`,
    );
  };

  return (
    <section class="panel narrow" aria-labelledby={`${kind}-title`}>
      <h2 id={`${kind}-title`}>{words.title}</h2>
      <p class="muted small">{words.help}</p>
      {list.error !== null && <ErrorBox error={list.error} what={words.title} />}
      <ul class="names" aria-label={words.title}>
        {items.map((item, i) => (
          <NameRow
            key={`${item.id}:${item.name}`}
            kind={kind}
            item={item}
            onRename={(name) =>
              act(() => api('PATCH', `/v1/${kind}/${item.id}`, { name }), `Renamed ${item.name} to ${name}.`)
            }
            moves={
              kind === 'roles'
                ? {
                    ...(i > 0 ? { up: move(i, i - 1) } : {}),
                    ...(i < items.length - 1 ? { down: move(i, i + 1) } : {}),
                  }
                : undefined
            }
          />
        ))}
      </ul>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const name = adding.trim();
          if (name)
            void act(() => api('POST', `/v1/${kind}`, { name }), `Added ${name}.`)
              .then(() => setAdding(''))
              .catch(() => undefined);
        }}
      >
        <label for={`${kind}-new`}>New {words.one}</label>
        <input
          id={`${kind}-new`}
          value={adding}
          onInput={(e) => setAdding((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Add {words.one}</button>
      </form>
      {error !== null && <ErrorBox error={error} what={words.title} />}
      <p role="status" class="status-line">
        {status}
      </p>
    </section>
  );
}
