import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { endReason, startSession, type Scope } from '../session';

const PROBES: [Scope, string][] = [
  ['imports', '/v1/imports?limit=1'],
  ['users', '/v1/roles?limit=1'],
  ['admin', '/v1/settings'],
];

/** Which sections a token opens: 200 means the scope is there, 403 that it is not, 401 a bad token. */
async function scopesOf(token: string): Promise<Scope[]> {
  const results = await Promise.all(
    PROBES.map(async ([scope, path]) => {
      try {
        await api('GET', path, undefined, token);
        return scope;
      } catch (error) {
        if (error instanceof ApiError && error.status === 403) return null;
        throw error;
      }
    }),
  );
  return results.filter((s): s is Scope => s !== null);
}

export function SignIn() {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(
    endReason() === 'rejected'
      ? 'The service no longer accepts your token (revoked or replaced). Sign in again.'
      : null,
  );

  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return setProblem('Paste your workspace token first.');
    setBusy(true);
    setProblem(null);
    try {
      const scopes = await scopesOf(value);
      if (scopes.length === 0) {
        setProblem(
          'This token is valid but opens none of Imports, Users or Settings (it may be a SCIM-only token). Ask for a token with the imports, users or admin scope.',
        );
      } else startSession({ token: value, scopes });
    } catch (error) {
      setProblem(
        error instanceof ApiError && error.status === 401
          ? 'This token was not recognised: check that it was copied whole (it starts with lp_) and has not been revoked.'
          : error instanceof Error
            ? error.message
            : 'Signing in failed.',
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <form class="panel" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">Sign in to Loopit Provision</h1>
        <p>Paste a workspace token. It stays in this browser tab only and is forgotten when you close it.</p>
        <label for="token">Workspace token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="lp_…"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-invalid={problem ? 'true' : undefined}
          aria-describedby={problem ? 'signin-problem' : undefined}
          required
        />
        {problem && (
          <p id="signin-problem" class="alert" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small">
          No token? Whoever manages your workspace creates one with <code>token create</code>.
        </p>
      </form>
    </main>
  );
}
