import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, download } from '../api';
import { DELIMITER_LABEL, FIELD_LABEL, MODE_LABEL, STATUS_LABEL } from '../hints';
import { BASE, navigate } from '../router';
import { FINISHED, type Counts, type Field, type Import } from '../types';
import { Badge, ErrorBox, Link, importBadge, number, plural, when } from '../ui';
import { preview, previewSource } from '../uploads';
import { RowsTable } from './RowsTable';
import { MappingStep, type MappingChoice } from './MappingStep';

const POLL_MS = 1000;

/**
 * An action that starts an import (a preview again, an apply, an undo) and opens its page; while it
 * runs `busy`, and if it fails `error`, shown where the action is.
 */
function useOpenImport(): { busy: boolean; error: unknown; open: (start: () => Promise<Import>) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const open = (start: () => Promise<Import>) => {
    setBusy(true);
    setError(null);
    start().then(
      (next) => navigate(`${BASE}/imports/${next.id}`),
      (e: unknown) => {
        setError(e);
        setBusy(false);
      },
    );
  };
  return { busy, error, open };
}

/** The import, polled while it is queued or processing. */
function useImport(id: string): { imp: Import | null; error: unknown; refresh: () => void; version: number } {
  const [state, setState] = useState<{ imp: Import | null; error: unknown }>({ imp: null, error: null });
  const [version, setVersion] = useState(0);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const load = async () => {
      try {
        const imp = await api<Import>('GET', `/v1/imports/${id}`);
        if (!live) return;
        setState({ imp, error: null });
        if (!FINISHED.includes(imp.status)) timer = window.setTimeout(() => void load(), POLL_MS);
        else setVersion((v) => v + 1);
      } catch (error) {
        if (!live) return;
        setState((s) => ({ imp: s.imp, error }));
        // A network blip or a 5xx while watching: keep watching; anything else stops here.
        if (error instanceof ApiError && (error.status === 0 || error.status >= 500))
          timer = window.setTimeout(() => void load(), POLL_MS * 3);
      }
    };
    void load();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id, nonce]);
  return { ...state, version, refresh: () => setNonce((n) => n + 1) };
}

const WOULD: Record<keyof Counts, string> = {
  created: 'would be created',
  updated: 'would be updated',
  unchanged: 'would stay unchanged',
  skipped: 'would be skipped',
  failed: 'would fail',
  deactivated: 'would be deactivated',
  deleted: 'would be deleted',
  invited: 'would be invited',
};

const COUNT_ORDER: (keyof Counts)[] = [
  'created',
  'updated',
  'unchanged',
  'skipped',
  'failed',
  'deactivated',
  'deleted',
  'invited',
];

function Progress({ imp }: { imp: Import }) {
  const finished = FINISHED.includes(imp.status);
  // One number for the bar and the text, never past 100 (a sync's deactivations are rows past the file's).
  const pct =
    imp.totalRows === 0
      ? finished
        ? 100
        : 0
      : Math.min(100, Math.floor((Math.min(imp.processedRows, imp.totalRows) / imp.totalRows) * 100));
  const badge = importBadge(imp);
  return (
    <div class="progress-block">
      <div
        class="progress"
        role="progressbar"
        aria-label={imp.dryRun ? 'Preview progress' : 'Import progress'}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}% · ${number(imp.processedRows)} of ${number(imp.totalRows)} rows`}
      >
        <div class="bar" style={{ width: `${pct}%` }} />
      </div>
      <p class="progress-text" aria-live="polite">
        <strong>{pct}%</strong> ·{' '}
        {imp.format === 'xlsx' && imp.totalRows === 0 && !finished
          ? 'reading the workbook'
          : `${number(imp.processedRows)} of ${number(imp.totalRows)} rows`}{' '}
        · {badge.label ?? STATUS_LABEL[imp.status]}
      </p>
      <ul class="counts" aria-label="Rows by result">
        {COUNT_ORDER.filter((k) => k !== 'deleted' || imp.kind === 'revert').map((k) => (
          <li key={k} class={`count count-${k}`}>
            <span class="n">{number(imp.counts[k])}</span> {imp.dryRun ? WOULD[k] : k}
          </li>
        ))}
      </ul>
    </div>
  );
}

const HOW: Record<string, string> = {
  alias: 'recognised header',
  saved: 'saved from an earlier import',
  explicit: 'chosen by you',
};

/** What the service noticed and did not guess, shown before anything else of the preview. */
function Warnings({ imp }: { imp: Import }) {
  const warnings = imp.warnings ?? [];
  if (warnings.length === 0) return null;
  return (
    <div class="warning warnings" role="alert" aria-label="Warnings">
      <strong>
        {warnings.length === 1 ? 'Check this before applying:' : 'Check these before applying:'}
      </strong>
      <ul>
        {warnings.map((w, i) => (
          <li key={`${w.code}-${i}`}>
            {w.message} <code class="code">{w.code}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

function PreviewDetails({ imp }: { imp: Import }) {
  const [mapping, setMapping] = useState(false);
  const { busy, error, open } = useOpenImport();
  const source = previewSource(imp.id);
  const mapped = new Set(Object.values(imp.mapping));
  const extra = imp.columns.filter((c) => !mapped.has(c));
  const unused = (imp.warnings ?? []).filter((w) => w.code === 'column_not_used');
  // What the preview read, plus each unused-looking column proposed for the field it resembles.
  const initial: Record<string, string> = Object.fromEntries(
    Object.entries(imp.mapping).map(([field, column]) => [column, field]),
  );
  for (const w of unused)
    if (w.column && w.field && imp.mapping[w.field] === undefined && initial[w.column] === undefined)
      initial[w.column] = w.field;

  const again = (choice: MappingChoice) => {
    if (source) open(() => preview(source.file, { ...source.options, ...choice }));
  };

  return (
    <section class="panel" aria-labelledby="file-title">
      <h2 id="file-title">How the file was read</h2>
      <dl class="facts">
        {imp.format === 'xlsx' ? (
          <>
            <dt>Workbook sheet</dt>
            <dd>{imp.sheet}</dd>
          </>
        ) : (
          <>
            <dt>Encoding</dt>
            <dd>{imp.encoding}</dd>
            <dt>Delimiter</dt>
            <dd>{DELIMITER_LABEL[imp.delimiter] ?? imp.delimiter}</dd>
          </>
        )}
        <dt>Data rows</dt>
        <dd>{number(imp.totalRows)}</dd>
      </dl>
      <div class="table-wrap">
        <table class="mapping">
          <caption>Column mapping</caption>
          <thead>
            <tr>
              <th scope="col">Loopit field</th>
              <th scope="col">Column in your file</th>
              <th scope="col">How it was found</th>
            </tr>
          </thead>
          <tbody>
            {(Object.entries(FIELD_LABEL) as [Field, string][]).map(([field, label]) => (
              <tr key={field}>
                <th scope="row">{label}</th>
                <td>{imp.mapping[field] ?? <span class="muted">not in the file</span>}</td>
                <td class="muted">
                  {imp.mapping[field] ? (HOW[imp.mappingSources?.[field] ?? ''] ?? '') : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {extra.length > 0 && <p class="muted">Kept for the report only: {extra.join(', ')}.</p>}
      {!mapping && (
        <div class="actions">
          <button type="button" class={unused.length > 0 ? 'primary' : ''} onClick={() => setMapping(true)}>
            Change the column mapping
          </button>
        </div>
      )}
      {mapping &&
        (source ? (
          <MappingStep
            headers={imp.columns}
            initial={initial}
            sheet={imp.sheet}
            lead="Choose the field each column feeds; the preview runs again with your choice, and nothing changes until you apply it."
            busy={busy}
            onSubmit={(c) => void again(c)}
            onCancel={() => setMapping(false)}
          />
        ) : (
          <p class="alert">
            This tab no longer has the file: upload it again from the Imports page, and choose the columns
            there.
          </p>
        ))}
      {error !== null && <ErrorBox error={error} what="imports" />}
    </section>
  );
}

/** "Undo this import": a finished import not yet undone starts with the undo's preview. */
function UndoPanel({ imp }: { imp: Import }) {
  const { busy, error, open } = useOpenImport();
  if (imp.revertedBy)
    return (
      <p class="notice">
        This import was undone: <Link href={`${BASE}/imports/${imp.revertedBy}`}>see the undo</Link>.
      </p>
    );
  const undo = () => open(() => api<Import>('POST', `/v1/imports/${imp.id}/revert`, { dryRun: true }));
  return (
    <section class="panel" aria-labelledby="undo-title">
      <h2 id="undo-title">Undo this import</h2>
      <p>
        Deletes the people it created and puts back what it changed, except for people who changed since. You
        see who would be affected before anything happens.
      </p>
      {error !== null && <ErrorBox error={error} what="this import" />}
      <button type="button" disabled={busy} onClick={() => void undo()}>
        {busy ? 'Working out the undo…' : 'Preview the undo'}
      </button>
    </section>
  );
}

/** The preview of an undo: who would be deleted, whose fields go back, who is left alone and why. */
function UndoApplyPanel({ imp }: { imp: Import }) {
  const { busy, error, open } = useOpenImport();
  const apply = () => open(() => api<Import>('POST', `/v1/imports/${imp.id}/apply`));
  return (
    <section class="panel apply" aria-labelledby="apply-title">
      <h2 id="apply-title">Nothing has been undone yet</h2>
      <p>
        Undoing the import will delete {plural(imp.counts.deleted, 'person', 'people')} it created and put
        back the earlier values of {plural(imp.counts.updated, 'person', 'people')}.
        {imp.counts.skipped > 0 &&
          ` ${plural(imp.counts.skipped, 'person', 'people')} changed since the import and will be left as they are.`}
      </p>
      {error !== null && <ErrorBox error={error} what="this import" />}
      <div class="actions">
        <button
          type="button"
          class="primary danger"
          disabled={busy || imp.counts.deleted + imp.counts.updated === 0}
          onClick={() => void apply()}
        >
          {busy ? 'Starting…' : 'Undo import'}
        </button>
        {imp.revertOf && (
          <Link href={`${BASE}/imports/${imp.revertOf}`} class="button">
            Back to the import
          </Link>
        )}
      </div>
    </section>
  );
}

function ApplyPanel({ imp }: { imp: Import }) {
  const { busy, error, open } = useOpenImport();
  const [confirmed, setConfirmed] = useState(false);
  const thresholdHit = imp.error?.code === 'sync_threshold_exceeded';
  const source = previewSource(imp.id);
  const writes = imp.counts.created + imp.counts.updated + imp.counts.deactivated;

  const apply = () => open(() => api<Import>('POST', `/v1/imports/${imp.id}/apply`));
  const previewAgain = () => {
    if (source)
      open(() => preview(source.file, { ...source.options, confirmDeactivations: imp.counts.deactivated }));
  };

  return (
    <section class="panel apply" aria-labelledby="apply-title">
      <h2 id="apply-title">Nothing has changed yet</h2>
      <p>
        Applying this preview will create {number(imp.counts.created)}, update {number(imp.counts.updated)}
        {imp.mode === 'sync' ? ` and deactivate ${number(imp.counts.deactivated)}` : ''} people
        {imp.sendInvites ? `, and invite ${number(imp.counts.invited)}` : ''}.{' '}
        {imp.counts.failed > 0 &&
          `${plural(imp.counts.failed, 'row')} ${imp.counts.failed === 1 ? 'has a problem' : 'have problems'} and will be left out unless corrected; ${imp.counts.failed === 1 ? 'it is' : 'they are'} listed below with how to fix ${imp.counts.failed === 1 ? 'it' : 'them'}.`}
      </p>
      {imp.mode === 'sync' && imp.counts.deactivated > 0 && (
        <p class="warning">
          <strong>
            {number(imp.counts.deactivated)} people who are not in the file will be deactivated.
          </strong>{' '}
          They are listed under Rows (Show: Deactivated); people managed by your identity provider are never
          deactivated by a file.
        </p>
      )}
      {thresholdHit && (
        <div class="alert" role="alert">
          <p>{imp.error?.message}</p>
          {source ? (
            <div class="field check">
              <input
                type="checkbox"
                id="confirm"
                checked={confirmed}
                onChange={(e) => setConfirmed((e.target as HTMLInputElement).checked)}
              />
              <label for="confirm">Yes, deactivate these {number(imp.counts.deactivated)} people</label>
            </div>
          ) : (
            <p>To go ahead, upload the file again from the Imports page.</p>
          )}
        </div>
      )}
      {error !== null && <ErrorBox error={error} what="imports" />}
      <div class="actions">
        {thresholdHit ? (
          <button
            type="button"
            class="primary"
            disabled={!confirmed || busy || !source}
            onClick={() => void previewAgain()}
          >
            Preview again with this confirmation
          </button>
        ) : (
          <button type="button" class="primary" disabled={busy || writes === 0} onClick={() => void apply()}>
            {busy ? 'Starting…' : 'Apply import'}
          </button>
        )}
        <Link href={`${BASE}/imports`} class="button">
          Upload another file
        </Link>
      </div>
    </section>
  );
}

function Actions({ imp, refresh }: { imp: Import; refresh: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const run = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    setError(null);
    setDone('');
    try {
      await api('POST', `/v1/imports/${imp.id}/${action}`);
      setDone(
        action === 'retry'
          ? imp.dryRun
            ? 'Previewing the failed rows again, with your corrections.'
            : 'Retrying the failed and pending rows, with your corrections; rows not corrected fail again if their cause is still there.'
          : 'Cancelling: the import stops after the batch in hand; rows not reached stay pending.',
      );
      refresh();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 409 ? new Error(e.message) : e);
    } finally {
      setBusy(false);
    }
  };
  const running = imp.status === 'queued' || imp.status === 'processing';
  const retryable =
    ['completed_with_errors', 'failed', 'cancelled'].includes(imp.status) &&
    (!imp.dryRun || imp.counts.failed > 0);
  return (
    <div class="actions">
      {!imp.dryRun && (
        <button
          type="button"
          onClick={() => void download(`/v1/imports/${imp.id}/report.csv`, 'report.csv').catch(setError)}
        >
          Download report (CSV)
        </button>
      )}
      {retryable && (
        <button type="button" disabled={busy} onClick={() => void run('retry')}>
          {imp.dryRun ? 'Preview failed rows again' : 'Retry failed rows'}
        </button>
      )}
      {running && (
        <button type="button" class="danger" disabled={busy} onClick={() => void run('cancel')}>
          Cancel import
        </button>
      )}
      {error !== null && <ErrorBox error={error} what="this import" />}
      <p class="status-line" role="status">
        {done}
      </p>
    </div>
  );
}

export function ImportPage({ id }: { id: string }) {
  const { imp, error, refresh, version } = useImport(id);
  if (!imp) return error ? <ErrorBox error={error} what="this import" /> : <p aria-busy="true">Loading…</p>;
  const finished = FINISHED.includes(imp.status);
  return (
    <>
      <p class="crumbs">
        <Link href={`${BASE}/imports`}>Imports</Link> /
      </p>
      <h1>
        {imp.kind === 'revert'
          ? imp.dryRun
            ? 'Preview: undo of '
            : 'Undo of '
          : imp.dryRun
            ? 'Preview of '
            : 'Import of '}
        {imp.fileName ?? 'an upload'}
      </h1>
      {imp.revertOf && (
        <p class="meta">
          Undoes <Link href={`${BASE}/imports/${imp.revertOf}`}>this import</Link>.
        </p>
      )}
      <p class="meta">
        <Badge {...importBadge(imp)} /> {MODE_LABEL[imp.mode]} · invitations {imp.sendInvites ? 'on' : 'off'}{' '}
        · started {when(imp.createdAt)}
        {imp.finishedAt && ` · finished ${when(imp.finishedAt)}`}
      </p>
      {error !== null && <ErrorBox error={error} what="this import" />}
      <Warnings imp={imp} />
      <section class="panel" aria-labelledby="progress-title">
        <h2 id="progress-title">{imp.dryRun ? 'Preview' : 'Progress'}</h2>
        <Progress imp={imp} />
        {imp.error && imp.error.code !== 'sync_threshold_exceeded' && (
          <p class="alert" role="alert">
            {imp.error.message}
          </p>
        )}
        <Actions imp={imp} refresh={refresh} />
      </section>
      {imp.dryRun && finished && imp.status !== 'failed' && imp.kind === 'revert' && (
        <UndoApplyPanel imp={imp} />
      )}
      {imp.dryRun && finished && imp.status !== 'failed' && imp.kind !== 'revert' && <ApplyPanel imp={imp} />}
      {imp.dryRun && imp.kind !== 'revert' && <PreviewDetails imp={imp} />}
      {!imp.dryRun && imp.kind !== 'revert' && finished && <UndoPanel imp={imp} />}
      {(finished || imp.processedRows > 0) && <RowsTable imp={imp} version={version} />}
    </>
  );
}
