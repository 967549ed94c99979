import { useState } from 'preact/hooks';
import { api, query, type Page } from '../api';
import { STATUS_LABEL, WOULD_LABEL, fixFor } from '../hints';
import { useLoad, usePaged } from '../hooks';
import { FINISHED, type Import, type ImportRow, type Ref, type Role, type RowStatus } from '../types';
import { Badge, ErrorBox, Pager, number } from '../ui';
import { RowFixDialog } from './RowFixDialog';

const FILTERS: (RowStatus | '')[] = [
  '',
  'failed',
  'skipped',
  'created',
  'updated',
  'unchanged',
  'deactivated',
  'deleted',
  'pending',
];

function countOf(imp: Import, status: RowStatus | ''): number | undefined {
  if (status === '') return imp.totalRows + imp.counts.deactivated;
  if (status === 'pending') return undefined;
  return imp.counts[status];
}

const INVITATION: Record<string, string> = {
  queued: 'Queued',
  sent: 'Sent',
  not_sent: 'Not sent',
  failed: 'Failed',
};

/** A preview's rows say what would happen; nothing was created or sent. */
const invitationLabel = (imp: Import, r: ImportRow): string => {
  if (!r.invitation) return '';
  if (imp.dryRun) return r.invitation === 'not_sent' ? 'Would not invite' : 'Would invite';
  return INVITATION[r.invitation] ?? r.invitation;
};

/** The corrections of a row, as "email: bob@example → bob@example.com". */
const fixesText = (r: ImportRow): string =>
  Object.entries(r.fixes ?? {})
    .map(([field, f]) => `${field}: ${f.from ?? '(empty)'} → ${f.to ?? '(empty)'}`)
    .join('; ');

/** The import's rows, one server page at a time, filtered by status; failures say why and how to fix. */
export function RowsTable({ imp, version }: { imp: Import; version: number }) {
  const [status, setStatus] = useState<RowStatus | ''>(
    imp.counts.failed > 0 ? 'failed' : imp.dryRun && imp.counts.deactivated > 0 ? 'deactivated' : '',
  );
  const [edits, setEdits] = useState(0);
  const [fixing, setFixing] = useState<ImportRow | null>(null);
  const paged = usePaged(`${imp.id}:${status}:${version}:${edits}`, (cursor) =>
    api<Page<ImportRow>>('GET', `/v1/imports/${imp.id}/rows${query({ status, cursor, limit: 50 })}`),
  );
  // Failed rows of a finished import can be corrected here; "Retry failed rows" then runs them.
  const fixable = FINISHED.includes(imp.status) && imp.kind !== 'revert';
  const roles = useLoad(`roles:${fixable}`, () =>
    fixable ? api<Page<Role>>('GET', '/v1/roles?limit=1000') : Promise.resolve(null),
  );
  const locations = useLoad(`locations:${fixable}`, () =>
    fixable ? api<Page<Ref>>('GET', '/v1/locations?limit=1000') : Promise.resolve(null),
  );
  return (
    <section class="panel" aria-labelledby="rows-title">
      <h2 id="rows-title">Rows</h2>
      <div class="field inline">
        <label for="row-status">Show</label>
        <select
          id="row-status"
          value={status}
          onChange={(e) => setStatus((e.target as HTMLSelectElement).value as RowStatus | '')}
        >
          {FILTERS.map((f) => {
            const n = countOf(imp, f);
            return (
              <option key={f} value={f}>
                {f === '' ? 'All rows' : STATUS_LABEL[f]}
                {n !== undefined ? ` (${number(n)})` : ''}
              </option>
            );
          })}
        </select>
      </div>
      {paged.error !== null && <ErrorBox error={paged.error} what="this import" />}
      {paged.page && paged.page.data.length === 0 && <p class="muted">No rows with this status.</p>}
      {paged.page && paged.page.data.length > 0 && (
        <div class="table-wrap" aria-busy={paged.loading}>
          <table class="rows stack">
            <caption class="visually-hidden">
              Rows of the import{status ? `, ${STATUS_LABEL[status]}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Row
                </th>
                <th scope="col">E-mail</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Location</th>
                <th scope="col">Result</th>
                <th scope="col">Invitation</th>
                <th scope="col">Problem and how to fix it</th>
              </tr>
            </thead>
            <tbody>
              {paged.page.data.map((r, i) => (
                <tr key={`${r.row ?? 'x'}-${i}`}>
                  <td data-label="Row" class="num">
                    {r.row ?? '—'}
                  </td>
                  <td data-label="E-mail" class="wrap">
                    {r.email ?? ''}
                  </td>
                  <td data-label="Name">{r.name ?? ''}</td>
                  <td data-label="Role">{r.role ?? ''}</td>
                  <td data-label="Location">{r.location ?? ''}</td>
                  <td data-label="Result">
                    <Badge status={r.status} label={imp.dryRun ? WOULD_LABEL[r.status] : undefined} />
                  </td>
                  <td data-label="Invitation">{invitationLabel(imp, r)}</td>
                  <td class="problem" data-label="Problem">
                    {r.errorCode && (
                      <>
                        <strong>{r.errorMessage ?? r.errorCode}</strong>
                        <span class="fix">{fixFor(r.errorCode)}</span>
                        <code class="code">{r.errorCode}</code>
                      </>
                    )}
                    {r.fixes && (
                      <span class="corrected">
                        Corrected ({fixesText(r)}){r.status === 'failed' ? '; runs at the next retry.' : '.'}
                      </span>
                    )}
                    {fixable && r.status === 'failed' && r.row !== null && (
                      <button
                        type="button"
                        class="small"
                        disabled={!roles.data}
                        aria-label={`Correct row ${r.row}`}
                        onClick={() => setFixing(r)}
                      >
                        Correct
                      </button>
                    )}
                    {!r.errorCode && r.row === null && r.status === 'deactivated' && (
                      <span class="muted">
                        Not in the file: {imp.dryRun ? 'would be deactivated' : 'deactivated'}.
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Rows" paged={paged} />
      {fixing && roles.data && (
        <RowFixDialog
          importId={imp.id}
          row={fixing}
          roles={roles.data.data}
          locations={locations.data?.data ?? []}
          onSaved={() => setEdits((n) => n + 1)}
          onClose={() => setFixing(null)}
        />
      )}
    </section>
  );
}
