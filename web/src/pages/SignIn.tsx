import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { endReason, startSession, type Scope } from '../session';

const SECTIONS: readonly Scope[] = ['imports', 'users', 'admin'];

/** Which sections a token opens, as the service says (GET /v1/workspace); 401 for a bad token. */
async function scopesOf(token: string): Promise<{ scopes: Scope[]; workspace: string }> {
  const me = await api<{ name: string; scopes: string[] }>('GET', '/v1/workspace', undefined, token);
  return {
    scopes: SECTIONS.filter((s) => me.scopes.includes(s)),
    workspace: me.name,
  };
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
      const { scopes, workspace } = await scopesOf(value);
      if (scopes.length === 0) {
        setProblem(
          'This token is valid but opens none of Imports, Users or Settings (it may be a SCIM-only token). Ask for a token with the imports, users or admin scope.',
        );
      } else startSession({ token: value, scopes, workspace });
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
