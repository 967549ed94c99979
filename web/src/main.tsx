import { render, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ImportPage } from './pages/ImportPage';
import { ImportsPage } from './pages/ImportsPage';
import { LogPage } from './pages/LogPage';
import { SettingsPage } from './pages/SettingsPage';
import { SignIn } from './pages/SignIn';
import { UsersPage } from './pages/UsersPage';
import { BASE, navigate, useLocation } from './router';
import { currentSession, onSessionChange, type Scope } from './session';
import { Layout, Link, ScopeScreen } from './ui';

const TITLES: Record<Scope, string> = { imports: 'Imports', users: 'Users', admin: 'Settings' };
const HOME: Record<Scope, string> = {
  imports: `${BASE}/imports`,
  users: `${BASE}/users`,
  admin: `${BASE}/settings`,
};

function Guard({ scope, what, children }: { scope: Scope; what?: string; children: ComponentChildren }) {
  const scopes = currentSession()?.scopes ?? [];
  return scopes.includes(scope) ? (
    <>{children}</>
  ) : (
    <ScopeScreen scope={scope} what={what ?? TITLES[scope]} />
  );
}

function Routes({ path }: { path: string }) {
  const session = currentSession()!;
  const importMatch = /^\/app\/imports\/([0-9a-f-]{36})$/.exec(path);
  useEffect(() => {
    if (path === BASE || path === '/') navigate(HOME[session.scopes[0] ?? 'imports'], true);
    // The name people guess for the provisioning log.
    if (path === `${BASE}/audit`) navigate(`${BASE}/log${location.search}`, true);
  }, [path]);
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);
  if (importMatch)
    return (
      <Guard scope="imports">
        <ImportPage id={importMatch[1]!} />
      </Guard>
    );
  if (path === `${BASE}/imports`)
    return (
      <Guard scope="imports">
        <ImportsPage />
      </Guard>
    );
  if (path === `${BASE}/users`)
    return (
      <Guard scope="users">
        <UsersPage />
      </Guard>
    );
  if (path === `${BASE}/log`)
    return (
      <Guard scope="admin" what="the Provisioning log">
        <LogPage />
      </Guard>
    );
  if (path === `${BASE}/settings`)
    return (
      <Guard scope="admin">
        <SettingsPage />
      </Guard>
    );
  if (path === BASE || path === `${BASE}/audit`) return null;
  return (
    <section class="panel">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link href={`${BASE}/imports`}>Go to Imports</Link>.
      </p>
    </section>
  );
}

function App() {
  const [, setTick] = useState(0);
  useEffect(() => onSessionChange(() => setTick((t) => t + 1)), []);
  const { path } = useLocation();
  const session = currentSession();
  useEffect(() => {
    document.title = session ? 'Loopit Provision' : 'Sign in · Loopit Provision';
  }, [session]);
  if (!session) return <SignIn />;
  return (
    <Layout path={path}>
      <Routes path={path} />
    </Layout>
  );
}

render(<App />, document.getElementById('root')!);
