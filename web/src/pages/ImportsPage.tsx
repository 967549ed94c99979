import { useRef, useState } from 'preact/hooks';
import { api, download, query, type Page } from '../api';
import { MODE_LABEL } from '../hints';
import { useLoad, usePaged } from '../hooks';
import { BASE, navigate } from '../router';
import { currentSession } from '../session';
import type { Import, Mode, Role } from '../types';
import { Badge, ErrorBox, Link, Pager, importBadge, number, when } from '../ui';
import { preview } from '../uploads';
import { MappingStep, type MappingChoice } from './MappingStep';
import { ApiError } from '../api';
import { FIELD_LABEL } from '../hints';

const MODES: { value: Mode; help: string }[] = [
  { value: 'create', help: 'People already in the workspace are skipped.' },
  {
    value: 'upsert',
    help: 'New people are added; people already there get the file’s name, role and location.',
  },
  {
    value: 'sync',
    help: 'Like Add and update, and everyone active or invited who is not in the file is deactivated.',
  },
];

function NewImport() {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<Mode>('create');
  const [defaultRole, setDefaultRole] = useState('');
  const [sendInvites, setSendInvites] = useState(true);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // A file refused for missing columns: its headers, what the service suggests, the sheets.
  const [refused, setRefused] = useState<ApiError | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const canListRoles = currentSession()?.scopes.includes('users') ?? false;
  const roles = useLoad('roles', () =>
    canListRoles ? api<Page<Role>>('GET', '/v1/roles?limit=1000') : Promise.resolve(null),
  );

  const pick = (files: FileList | null | undefined) => {
    const chosen = files?.[0];
    if (chosen) {
      setFile(chosen);
      setError(null);
      setRefused(null);
    }
  };

  const send = async (choice?: MappingChoice) => {
    if (!file) return setError(new Error('Choose a CSV file first.'));
    setBusy(true);
    setError(null);
    try {
      const imp = await preview(file, { mode, sendInvites, defaultRole, ...(choice ?? {}) });
      navigate(`${BASE}/imports/${imp.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'missing_columns' && Array.isArray(e.details.headers)) {
        setRefused(e);
        setError(null);
      } else setError(e);
      setBusy(false);
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    setRefused(null);
    void send();
  };

  const form = (
    <form class="panel" onSubmit={(e) => void submit(e)} aria-labelledby="new-import-title">
      <h2 id="new-import-title">New import</h2>
      <p class="muted">
        Upload an Excel workbook (.xlsx: its first sheet is read) or a spreadsheet saved as CSV (Excel, Google
        Sheets, Numbers). You will see a preview before anything changes.{' '}
        <button
          type="button"
          class="link"
          onClick={() => void download('/v1/imports/template.csv', 'loopit-users-template.csv')}
        >
          Download a template
        </button>
      </p>
      <div
        class={`drop${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          pick(e.dataTransfer?.files);
        }}
      >
        <label for="file">
          <strong>Choose a file</strong> or drop it here
        </label>
        <input
          ref={input}
          id="file"
          name="file"
          type="file"
          accept=".csv,.txt,.tsv,.xlsx,text/csv,text/plain,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          onChange={(e) => pick((e.target as HTMLInputElement).files)}
        />
        <p aria-live="polite" class="file-name">
          {file ? `${file.name} · ${number(Math.ceil(file.size / 1024))} KB` : 'No file chosen'}
        </p>
      </div>

      <fieldset>
        <legend>What should the import do?</legend>
        {MODES.map((m) => (
          <div class="choice" key={m.value}>
            <input
              type="radio"
              id={`mode-${m.value}`}
              name="mode"
              value={m.value}
              checked={mode === m.value}
              onChange={() => setMode(m.value)}
              aria-describedby={`mode-${m.value}-help`}
            />
            <label for={`mode-${m.value}`}>{MODE_LABEL[m.value]}</label>
            <p id={`mode-${m.value}-help`} class="muted small">
              {m.help}
            </p>
          </div>
        ))}
      </fieldset>

      <div class="row">
        <div class="field">
          <label for="default-role">Role for rows without one</label>
          {roles.data ? (
            <select
              id="default-role"
              value={defaultRole}
              onChange={(e) => setDefaultRole((e.target as HTMLSelectElement).value)}
            >
              <option value="">The workspace’s default role</option>
              {roles.data.data.map((r) => (
                <option key={r.id} value={r.name}>
                  {r.name}
                </option>
              ))}
            </select>
          ) : (
            <input
              id="default-role"
              value={defaultRole}
              placeholder="The workspace’s default role"
              onInput={(e) => setDefaultRole((e.target as HTMLInputElement).value)}
            />
          )}
        </div>
        <div class="field check">
          <input
            type="checkbox"
            id="send-invites"
            checked={sendInvites}
            onChange={(e) => setSendInvites((e.target as HTMLInputElement).checked)}
          />
          <label for="send-invites">Send invitation e-mails to new people</label>
        </div>
      </div>

      {error !== null && <ErrorBox error={error} what="imports" />}
      {!refused && (
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Uploading…' : 'Preview import'}
        </button>
      )}
    </form>
  );
  return refused ? (
    <>
      {form}
      <Refused error={refused} busy={busy} onSubmit={(c) => void send(c)} />
    </>
  ) : (
    form
  );
}

/** The mapping step of a file refused for missing columns: its columns, the suggestions preselected. */
function Refused(props: { error: ApiError; busy: boolean; onSubmit: (choice: MappingChoice) => void }) {
  const d = props.error.details as {
    missing?: string[];
    headers: string[];
    suggestions?: Record<string, string>;
    sheet?: string;
    sheets?: string[];
  };
  const missing = (d.missing ?? []).map((f) => FIELD_LABEL[f] ?? f).join(', ');
  const initial = Object.fromEntries(
    Object.entries(d.suggestions ?? {}).map(([field, header]) => [header, field]),
  );
  return (
    <div class="refused" role="alert">
      <MappingStep
        headers={d.headers}
        initial={initial}
        sheets={d.sheets}
        sheet={d.sheet}
        lead={`${props.error.message} ${d.sheet ? `(sheet '${d.sheet}' was read) ` : ''}Choose the column that holds ${missing || 'each missing field'}${Object.keys(initial).length > 0 ? '; the likely ones are preselected' : ''}.`}
        busy={props.busy}
        onSubmit={props.onSubmit}
      />
    </div>
  );
}

function History() {
  const paged = usePaged('imports', (cursor) =>
    api<Page<Import>>('GET', `/v1/imports${query({ limit: 20, cursor })}`),
  );
  return (
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">Import history</h2>
      {paged.error !== null && <ErrorBox error={paged.error} what="imports" />}
      {paged.page && paged.page.data.length === 0 && <p class="muted">No imports yet.</p>}
      {paged.page && paged.page.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Imports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Rows
                </th>
                <th scope="col" class="num">
                  Failed
                </th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {paged.page.data.map((imp) => (
                <tr key={imp.id}>
                  <td>
                    <Link href={`${BASE}/imports/${imp.id}`}>{imp.fileName ?? 'Untitled upload'}</Link>
                  </td>
                  <td>
                    {imp.dryRun ? 'Preview · ' : ''}
                    {MODE_LABEL[imp.mode]}
                  </td>
                  <td>
                    <Badge {...importBadge(imp)} />
                  </td>
                  <td class="num">{number(imp.totalRows)}</td>
                  <td class="num">{number(imp.counts.failed)}</td>
                  <td>{when(imp.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Import history" paged={paged} />
    </section>
  );
}

export function ImportsPage() {
  return (
    <>
      <h1>Imports</h1>
      <NewImport />
      <History />
    </>
  );
}
