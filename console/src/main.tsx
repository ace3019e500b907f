// The relaykey admin console: sign-in, then hash-routed pages over the native API.
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, currentSession, endSession, onSessionEnd, type Session, type SessionEnd } from './api';
import { AccessPage } from './pages/access';
import { AnalyticsPage } from './pages/analytics';
import { AuditPage } from './pages/audit';
import { CredentialPage } from './pages/credential';
import { CredentialsPage } from './pages/credentials';
import { JobsPage } from './pages/jobs';
import { LoginsPage } from './pages/logins';
import { OverviewPage } from './pages/overview';
import { SignIn } from './pages/sign-in';
import { TenantSettingsPage } from './pages/tenant-settings';
import { TenantsPage } from './pages/tenants';
import { TokensPage } from './pages/tokens';
import { VaultPage } from './pages/vault';
import { VaultOverviewPage } from './pages/vault-overview';
import { WebhooksPage } from './pages/webhooks';
import { href, navigate, type Route, useRoute } from './router';
import { Dialog } from './ui';

const TENANT_TABS = [
  ['settings', 'Settings'],
  ['logins', 'Logins'],
  ['credentials', 'Credentials'],
  ['smtp', 'SMTP account'],
  ['analytics', 'Verifications'],
  ['audit', 'Audit'],
  ['webhooks', 'Webhooks'],
  ['tokens', 'Tokens'],
] as const;

function NotFound() {
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        This address does not match a console page. <a href="#/">Go to the overview</a>.
      </p>
    </section>
  );
}

/** What a tenant token sees where an admin page would be: no page that can only answer "forbidden". */
function AdminOnly({ tenantId }: { tenantId: string }) {
  return (
    <section>
      <h1 tabIndex={-1}>For platform admins</h1>
      <p data-testid="admin-only">
        This page is for platform admins. Signed in with a tenant token, you manage this tenant's{' '}
        <a href={href(`/tenants/${tenantId}/credentials`)}>credentials</a>, logins, audit trail and webhooks.
      </p>
    </section>
  );
}

function TenantPages({ tenantId, tab, route }: { tenantId: string; tab: string; route: Route }) {
  const session = currentSession();
  const tabs = TENANT_TABS.filter(([key]) => session?.kind === 'admin' || (key !== 'smtp' && key !== 'tokens'));
  let page = null;
  if (tab === 'settings') page = <TenantSettingsPage tenantId={tenantId} />;
  else if (tab === 'logins') page = <LoginsPage tenantId={tenantId} />;
  else if (tab === 'credentials' && route.parts[3]) page = <CredentialPage tenantId={tenantId} credentialId={route.parts[3]} />;
  else if (tab === 'credentials') page = <CredentialsPage tenantId={tenantId} route={route} />;
  else if (tab === 'smtp') page = <VaultPage tenantId={tenantId} />;
  else if (tab === 'analytics') page = <AnalyticsPage tenantId={tenantId} />;
  else if (tab === 'audit') page = <AuditPage tenantId={tenantId} route={route} />;
  else if (tab === 'webhooks') page = <WebhooksPage tenantId={tenantId} />;
  else if (tab === 'tokens') page = <TokensPage tenantId={tenantId} />;
  else page = <NotFound />;
  return (
    <>
      <nav class="tabs" aria-label="Tenant pages">
        {tabs.map(([key, label]) => (
          <a key={key} href={href(`/tenants/${tenantId}/${key}`)} aria-current={key === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {page}
    </>
  );
}

function Pages({ route, session }: { route: Route; session: Session }) {
  const [first, second, third] = route.parts;
  if (session.kind === 'token') {
    // A tenant token reaches one tenant; the other pages would only answer "forbidden".
    if (first === 'tenants' && second === session.tenantId) {
      const tab = third ?? 'credentials';
      if (tab === 'smtp' || tab === 'tokens') return <AdminOnly tenantId={session.tenantId} />;
      return <TenantPages tenantId={second} tab={tab} route={route} />;
    }
    if (!first) return <TenantPages tenantId={session.tenantId} tab="credentials" route={route} />;
    return <AdminOnly tenantId={session.tenantId} />;
  }
  if (!first) return <OverviewPage />;
  if (first === 'tenants' && !second) return <TenantsPage route={route} />;
  if (first === 'tenants' && second) return <TenantPages tenantId={second} tab={third ?? 'settings'} route={route} />;
  if (first === 'jobs') return <JobsPage />;
  if (first === 'audit') return <AuditPage tenantId={null} route={route} />;
  if (first === 'access') return <AccessPage />;
  if (first === 'vault') return <VaultOverviewPage />;
  return <NotFound />;
}

function Shell({ session, warning, onSignOut }: { session: Session; warning: string | null; onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const path = route.parts.join('/');
  // Move focus to the new page's heading so keyboard and screen-reader users follow navigation.
  useEffect(() => {
    const heading = main.current?.querySelector<HTMLElement>('h1');
    heading?.focus({ preventScroll: false });
  }, [path]);
  const admin = session.kind === 'admin';
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href={admin ? '#/' : href(`/tenants/${session.tenantId}/credentials`)}>
          relaykey
        </a>
        <nav aria-label="Main">
          {admin ? (
            <>
              <a href="#/" aria-current={route.parts.length === 0 ? 'page' : undefined}>
                Overview
              </a>
              <a href="#/tenants" aria-current={route.parts[0] === 'tenants' ? 'page' : undefined}>
                Tenants
              </a>
              <a href="#/jobs" aria-current={route.parts[0] === 'jobs' ? 'page' : undefined}>
                Jobs
              </a>
              <a href="#/audit" aria-current={route.parts[0] === 'audit' ? 'page' : undefined}>
                Audit
              </a>
              <a href="#/vault" aria-current={route.parts[0] === 'vault' ? 'page' : undefined}>
                Vault
              </a>
              <a href="#/access" aria-current={route.parts[0] === 'access' ? 'page' : undefined}>
                Access
              </a>
            </>
          ) : (
            <a href={href(`/tenants/${session.tenantId}/credentials`)}>{session.tenantName}</a>
          )}
        </nav>
        <div class="who">
          <span class="muted" data-testid="who">
            {admin ? session.email : `tenant token · ${session.tenantName}`}
          </span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {warning ? (
          <p class="notice notice-warning" role="status" data-testid="session-warning">
            {warning}
          </p>
        ) : null}
        <Pages route={route} session={session} />
      </main>
    </>
  );
}

const END_MESSAGES: Record<SessionEnd, string> = {
  'signed-out': 'You are signed out.',
  expired: 'Your session has expired or was ended. Sign in again to continue.',
};

const WARN_BEFORE_MS = 2 * 60_000;

function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [message, setMessage] = useState<string | null>(null);
  // An expired session keeps its page on screen under a "sign in again" dialog, so what the
  // operator was typing survives; signing out leaves for the sign-in page.
  const [expired, setExpired] = useState<Session | null>(null);
  const [warning, setWarning] = useState<string | null>(null);

  useEffect(
    () =>
      onSessionEnd((reason) => {
        setSession((before) => {
          setExpired(reason === 'expired' && before?.kind === 'admin' ? before : null);
          return null;
        });
        setWarning(null);
        setMessage(END_MESSAGES[reason]);
      }),
    [],
  );

  // Warn before the session ends, then end it visibly at its expiry time, even when no request is made then.
  useEffect(() => {
    setWarning(null);
    if (session?.kind !== 'admin') return;
    const wait = new Date(session.expiresAt).getTime() - Date.now();
    const clamp = (ms: number) => Math.max(0, Math.min(ms, 2 ** 31 - 1));
    const warn = setTimeout(
      () => setWarning(`Your session ends at ${new Date(session.expiresAt).toLocaleTimeString()}. You can sign in again then without losing this page.`),
      clamp(wait - WARN_BEFORE_MS),
    );
    const end = setTimeout(() => endSession('expired'), clamp(wait));
    return () => {
      clearTimeout(warn);
      clearTimeout(end);
    };
  }, [session]);

  const signedIn = (next: Session) => {
    setMessage(null);
    setExpired(null);
    setSession(next);
    if (next.kind === 'token' && !location.hash.includes(next.tenantId)) navigate(`/tenants/${next.tenantId}/credentials`);
  };

  if (!session && expired) {
    return (
      <>
        <Shell session={expired} warning={null} onSignOut={() => setExpired(null)} />
        <Dialog title="Sign in again" onClose={() => setExpired(null)}>
          <SignIn embedded message={message} onSignedIn={signedIn} />
        </Dialog>
      </>
    );
  }
  if (!session) return <SignIn message={message} onSignedIn={signedIn} />;
  return (
    <Shell
      session={session}
      warning={warning}
      onSignOut={async () => {
        if (session.kind === 'admin') await api.auth.logout().catch(() => undefined);
        endSession('signed-out');
      }}
    />
  );
}

// A deep link without the hash (/console/tenants/ID, served the app by the server) becomes the
// hash route it names, so bookmarks and pasted links of either form work.
const deepPath = location.pathname.replace(/^\/console\/?/, '');
if (deepPath && !location.hash) history.replaceState(null, '', `/console#/${deepPath}${location.search}`);

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
  // Tests and operators can see when the console became interactive.
  document.documentElement.dataset.ready = String(Math.round(performance.now()));
}
