// Sign-in: platform admins with email, password and (when enabled) TOTP; tenant managers with a tenant token.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, lastEmail, type Session, startSession } from '../api';
import { describeError, formValue, type Submit } from '../ui';

function PageWrapper({ children }: { children: ComponentChildren }) {
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to relaykey</h1>
      {children}
    </main>
  );
}

function EmbeddedWrapper({ children }: { children: ComponentChildren }) {
  return <div class="stack">{children}</div>;
}

export function SignIn({
  message,
  onSignedIn,
  embedded = false,
}: {
  message: string | null;
  onSignedIn: (session: Session) => void;
  /** Inside the "sign in again" dialog over the page the session ended on: admins only, no <main>. */
  embedded?: boolean;
}) {
  const remembered = lastEmail();
  const [mode, setMode] = useState<'admin' | 'token'>('admin');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const firstField = useRef<HTMLInputElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  // The email is prefilled when this browser signed in before: start on the password then.
  useEffect(() => (mode === 'admin' && remembered ? passwordField.current : firstField.current)?.focus(), [mode]);

  function switchMode(next: 'admin' | 'token') {
    setMode(next);
    setError(null);
  }

  async function signInAdmin(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const email = formValue(form, 'email');
    const password = (new FormData(form).get('password') as string) ?? '';
    const totp = formValue(form, 'totp');
    setBusy(true);
    setError(null);
    try {
      const result = await api.auth.login({ email, password, ...(totp ? { totp_code: totp } : {}) });
      const session: Session = { kind: 'admin', token: result.token, expiresAt: result.expires_at, email };
      startSession(session);
      onSignedIn(session);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'TOTP_REQUIRED') {
        setNeedTotp(true);
        setError('This admin uses two-factor sign-in: enter the 6-digit code from your authenticator app.');
        requestAnimationFrame(() => document.getElementById('totp')?.focus());
      } else if (failure instanceof ApiError && failure.code === 'INVALID_LOGIN') {
        setError(
          needTotp
            ? 'The email, password or authenticator code is wrong. Check them and try again.'
            : 'The email or password is wrong. Check them and try again.',
        );
      } else {
        setError(describeError(failure));
      }
    } finally {
      setBusy(false);
    }
  }

  async function signInToken(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const token = formValue(form, 'token');
    const tenantId = formValue(form, 'tenant');
    setBusy(true);
    setError(null);
    try {
      const tenant = await api.tenants.get(tenantId, token);
      const session: Session = { kind: 'token', token, tenantId: tenant.id, tenantName: tenant.name };
      startSession(session);
      onSignedIn(session);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) setError('This token is not valid, has expired or was revoked.');
      else if (failure instanceof ApiError && (failure.status === 404 || failure.code === 'VALIDATION_FAILED'))
        setError('No tenant with this ID is reachable with this token. Check the tenant ID.');
      else if (failure instanceof ApiError && failure.status === 403) setError('This kind of token cannot use the console: use a tenant bearer token.');
      else setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  const Wrapper = embedded ? EmbeddedWrapper : PageWrapper;
  return (
    <Wrapper>
      {message ? (
        <p class="notice notice-info" role="status" data-testid="session-message">
          {message}
        </p>
      ) : null}
      {embedded ? null : (
        <fieldset class="mode">
          <legend>Sign in as</legend>
          <label class="inline">
            <input type="radio" name="mode" checked={mode === 'admin'} onChange={() => switchMode('admin')} /> Platform admin
          </label>
          <label class="inline">
            <input type="radio" name="mode" checked={mode === 'token'} onChange={() => switchMode('token')} /> Tenant manager (API token)
          </label>
        </fieldset>
      )}
      {error ? (
        <p class="notice notice-error" role="alert" data-testid="sign-in-error">
          {error}
        </p>
      ) : null}
      {mode === 'admin' ? (
        <form onSubmit={signInAdmin} class="stack" aria-label="Admin sign-in">
          <label>
            Email
            <input ref={firstField} name="email" type="email" autoComplete="username" required defaultValue={remembered} />
          </label>
          <label>
            Password
            <input ref={passwordField} name="password" type="password" autoComplete="current-password" required data-autofocus={remembered ? '' : undefined} />
          </label>
          {needTotp ? (
            <label>
              Authenticator code
              <input id="totp" name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6,8}" required />
            </label>
          ) : null}
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      ) : (
        <form onSubmit={signInToken} class="stack" aria-label="Token sign-in">
          <label>
            Tenant bearer token
            <input ref={firstField} name="token" type="password" autoComplete="off" required />
          </label>
          <label>
            Tenant ID
            <input name="tenant" required pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      )}
      {embedded ? null : <p class="muted small">The session lasts while this tab is open (a reload keeps it); closing the tab or signing out ends it.</p>}
    </Wrapper>
  );
}
