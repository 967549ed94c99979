import type { ComponentChildren } from 'preact';
import { ApiError } from './api';
import type { Paged } from './hooks';
import { STATUS_LABEL } from './hints';
import { BASE, linkClick } from './router';
import { currentSession, endSession, type Scope } from './session';

export function Link(props: {
  href: string;
  class?: string;
  children: ComponentChildren;
  'aria-current'?: 'page';
  'aria-label'?: string;
  title?: string;
}) {
  return (
    <a {...props} onClick={linkClick}>
      {props.children}
    </a>
  );
}

const SECTIONS: { href: string; label: string; scope: Scope }[] = [
  { href: `${BASE}/imports`, label: 'Imports', scope: 'imports' },
  { href: `${BASE}/users`, label: 'Users', scope: 'users' },
  { href: `${BASE}/log`, label: 'Provisioning log', scope: 'admin' },
  { href: `${BASE}/settings`, label: 'Settings', scope: 'admin' },
];

export function Layout({ path, children }: { path: string; children: ComponentChildren }) {
  const session = currentSession();
  const scopes = session?.scopes ?? [];
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">
          Loopit Provision
          {session?.workspace && <span class="workspace-name"> · {session.workspace}</span>}
        </span>
        <nav aria-label="Main">
          <ul>
            {SECTIONS.filter((s) => scopes.includes(s.scope)).map((s) => (
              <li key={s.href}>
                <Link href={s.href} {...(path.startsWith(s.href) ? { 'aria-current': 'page' as const } : {})}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="link" onClick={() => endSession()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function Badge({ status, label }: { status: string; label?: string | undefined }) {
  return <span class={`badge badge-${status}`}>{label ?? STATUS_LABEL[status] ?? status}</span>;
}

/** "1 row", "2 rows", "1,000 rows". */
export const plural = (n: number, one: string, many = `${one}s`): string =>
  `${number(n)} ${n === 1 ? one : many}`;

/**
 * An import's badge. A finished preview changed nothing, so it is never "Completed with errors": it
 * says what would happen ("Preview: 3 rows would fail").
 */
export function importBadge(imp: { status: string; dryRun: boolean; counts: { failed: number } }): {
  status: string;
  label?: string;
} {
  if (!imp.dryRun || !['completed', 'completed_with_errors'].includes(imp.status))
    return { status: imp.status };
  return imp.counts.failed > 0
    ? { status: 'completed_with_errors', label: `Preview: ${plural(imp.counts.failed, 'row')} would fail` }
    : { status: 'completed', label: 'Preview ready' };
}

/** The screen for a token that lacks a section's scope: what is missing and how to get it. */
export function ScopeScreen({ scope, what }: { scope: string; what: string }) {
  return (
    <section class="panel notice" aria-labelledby="scope-title">
      <h1 id="scope-title">This token cannot open {what}</h1>
      <p>
        You are signed in with a workspace token that lacks the <code>{scope}</code> scope. Ask whoever
        manages your workspace for a token that has it (they can create one with{' '}
        <code>token create --workspace … --scope {scope}</code>), then sign in again with it.
      </p>
      <button type="button" onClick={() => endSession()}>
        Sign in with another token
      </button>
    </section>
  );
}

/** An API error, said plainly; a missing scope gets the scope screen. */
export function ErrorBox({ error, what = 'this page' }: { error: unknown; what?: string }) {
  if (error instanceof ApiError && error.code === 'insufficient_scope') {
    return (
      <ScopeScreen
        scope={typeof error.details.requiredScope === 'string' ? error.details.requiredScope : ''}
        what={what}
      />
    );
  }
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  const missing =
    error instanceof ApiError && Array.isArray(error.details.missing) ? error.details.missing : [];
  return (
    <div class="alert" role="alert">
      <p>{message}</p>
      {missing.length > 0 && <p>Missing columns: {missing.join(', ')}</p>}
      {error instanceof ApiError && typeof error.details.requestId === 'string' && error.status >= 500 && (
        <p class="muted">Request id: {error.details.requestId}</p>
      )}
    </div>
  );
}

/** Previous / Next for a list paged with `usePaged`. */
export function Pager(props: { label: string; paged: Paged<unknown> }) {
  const { paged } = props;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={!paged.hasPrev} onClick={paged.prev}>
        Previous
      </button>
      <span>Page {paged.pageNumber}</span>
      <button type="button" disabled={!paged.page?.nextCursor} onClick={paged.next}>
        Next
      </button>
    </nav>
  );
}

export const number = (n: number): string => n.toLocaleString('en-US');
export const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '—');
