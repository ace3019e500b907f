// The tenant's vaulted SMTP account (seed 000): reveal after re-authentication with a live
// countdown to the checkout's expiry, manual rotation, and emergency reset behind a typed confirmation.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, decodeBase64, type SmtpAccountStatus, type VaultAuditEvent } from '../api';
import {
  ConfirmDialog,
  copyText,
  Dialog,
  describeError,
  Loading,
  Notice,
  type Submit,
  Success,
  Table,
  TenantHeading,
  Time,
  formValue,
  time,
  useAutoRefresh,
  useLoad,
  useSubmission,
} from '../ui';

interface Checkout {
  username: string;
  password: string;
  webmailUrl: string | null;
  expiresAt: string;
  revealedAt: number;
  lastRotated?: string | null;
  nextRotation?: string | null;
  incidentId?: string;
}

function remaining(expiresAt: string, now: number): number {
  return Math.max(0, Math.floor((new Date(expiresAt).getTime() - now) / 1000));
}

function formatCountdown(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Asks for the password (and TOTP when needed) again; answers a session-bound reauth token. */
function ReauthDialog({ onClose, onToken, confirm = 'Confirm and reveal' }: { onClose: () => void; onToken: (token: string) => void; confirm?: string }) {
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const totp = formValue(form, 'totp');
    setBusy(true);
    setError(null);
    try {
      const result = await api.auth.reauth({ password: String(new FormData(form).get('password') ?? ''), ...(totp ? { totp_code: totp } : {}) });
      onToken(result.reauth_token);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'TOTP_REQUIRED') {
        setNeedTotp(true);
        setError('Enter the code from your authenticator app as well.');
      } else if (failure instanceof ApiError && failure.code === 'INVALID_LOGIN') setError('That password (or code) is wrong. Try again.');
      else setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog title="Confirm it is you" onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <p>Reading a stored password is recorded in the audit trail. Enter your password again to continue.</p>
        {error ? (
          <p class="notice notice-error" role="alert">
            {error}
          </p>
        ) : null}
        <label>
          Your password
          <input name="password" type="password" autoComplete="current-password" required autoFocus />
        </label>
        {needTotp ? (
          <label>
            Authenticator code
            <input name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6,8}" required />
          </label>
        ) : null}
        <div class="row">
          <button type="submit" disabled={busy}>
            {confirm}
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function CheckoutCard({ tenantId, checkout, onHide }: { tenantId: string; checkout: Checkout; onHide: () => void }) {
  const [now, setNow] = useState(Date.now());
  const [rotatedAt, setRotatedAt] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const seconds = remaining(checkout.expiresAt, now);
  const expired = seconds === 0;

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  // After the checkout ends the server rotates the password: watch the vault's audit for it.
  useEffect(() => {
    if (!expired || rotatedAt) return;
    const since = new Date(checkout.revealedAt - 1000).toISOString();
    let live = true;
    const look = async () => {
      try {
        const audit = await api.vault.audit(tenantId);
        const rotation = audit.events.find((e) => /rotat|reset/.test(e.event) && e.timestamp >= since);
        if (live && rotation) setRotatedAt(rotation.timestamp);
      } catch {
        // the audit is a courtesy here; the expiry message stands on its own
      }
    };
    look();
    const timer = setInterval(look, 5000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [expired, rotatedAt, tenantId, checkout.revealedAt]);

  return (
    <div class="card" data-testid="checkout">
      <dl class="facts">
        <dt>Username</dt>
        <dd class="mono" data-testid="smtp-username">
          {checkout.username}
        </dd>
        <dt>Password</dt>
        <dd>
          {expired ? (
            <span class="muted">hidden: the checkout has ended</span>
          ) : (
            <span class="row">
              <input ref={input} class="mono" readOnly value={checkout.password} aria-label="SMTP password" data-testid="smtp-password" />
              <button type="button" class="small secondary" onClick={async () => setCopied(await copyText(checkout.password, input.current))}>
                Copy
              </button>
              {copied ? <span role="status">Copied.</span> : null}
            </span>
          )}
        </dd>
        {checkout.webmailUrl ? (
          <>
            <dt>Webmail</dt>
            <dd>
              <a href={checkout.webmailUrl} target="_blank" rel="noopener noreferrer">
                {checkout.webmailUrl}
              </a>
            </dd>
          </>
        ) : null}
        {checkout.incidentId ? (
          <>
            <dt>Incident</dt>
            <dd>{checkout.incidentId}</dd>
          </>
        ) : null}
      </dl>
      {expired ? (
        <p class="notice notice-info" role="status" data-testid="checkout-ended">
          The checkout ended at {time(checkout.expiresAt)}.{' '}
          {rotatedAt ? (
            <strong data-testid="rotated">The password was rotated at {time(rotatedAt)}: the one shown before no longer works.</strong>
          ) : (
            'relaykey rotates the password when a checkout ends; waiting for the rotation…'
          )}
        </p>
      ) : (
        <p class="countdown">
          <span role="timer" aria-live="off" data-testid="countdown" data-seconds={seconds}>
            Checkout expires in {formatCountdown(seconds)}
          </span>{' '}
          <span class="muted">(at {time(checkout.expiresAt)}; the password is rotated then)</span>
        </p>
      )}
      <button type="button" class="secondary" onClick={onHide}>
        {expired ? 'Close' : 'Hide password'}
      </button>
    </div>
  );
}

function ResetDialog({
  tenantName,
  tenantId,
  reauthToken,
  onClose,
  onReset,
}: {
  tenantName: string;
  tenantId: string;
  reauthToken: string;
  onClose: () => void;
  onReset: (c: Checkout) => void;
}) {
  const [typed, setTyped] = useState('');
  const { busy, error, run } = useSubmission();
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    await run(async () => {
      const reset = await api.vault.emergencyReset(tenantId, reauthToken, formValue(form, 'incident'), formValue(form, 'reason'));
      onReset({
        username: reset.username,
        password: decodeBase64(reset.password),
        webmailUrl: reset.webmail_url,
        expiresAt: reset.expires_at,
        revealedAt: Date.now(),
        incidentId: reset.incident_id,
      });
    });
  }
  return (
    <Dialog title="Emergency reset" onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <p class="notice notice-warning">
          An emergency reset replaces the SMTP password at once and ends every session using it. Mail sent with the old password fails from now on.
        </p>
        <Notice error={error} what="Emergency reset" />
        <label>
          Incident ID
          <input name="incident" required maxLength={100} placeholder="INC-2026-001" />
        </label>
        <label>
          Reason
          <input name="reason" required maxLength={500} />
        </label>
        <label>
          Type the tenant name <strong>{tenantName}</strong> to confirm
          <input name="confirm" autoComplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="submit" class="danger" disabled={busy || typed !== tenantName}>
            Reset the SMTP password
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The result of the last action, shown beside the control that caused it; a later action replaces it. */
interface Feedback {
  at: 'reveal' | 'rotate' | 'checkout';
  ok?: string;
  error?: unknown;
}

function FeedbackAt({ feedback, at, what }: { feedback: Feedback | null; at: Feedback['at']; what: string }) {
  const mine = feedback?.at === at ? feedback : null;
  const box = useRef<HTMLDivElement>(null);
  // Brought into view where it appears (on a phone the control may sit at the screen's bottom edge).
  useEffect(() => {
    if (mine) box.current?.scrollIntoView({ block: 'nearest' });
  }, [mine]);
  if (!mine) return null;
  return <div ref={box}>{mine.error ? <Notice error={mine.error} what={what} /> : <Success>{mine.ok}</Success>}</div>;
}

/** The account without its password, re-read on its own: a rotation by the schedule or a checkout's end shows here. */
function AccountCard({
  status,
  error,
  feedback,
  ending,
  onEnd,
}: {
  status: SmtpAccountStatus | undefined;
  error: unknown;
  feedback: Feedback | null;
  ending: boolean;
  onEnd: () => void;
}) {
  return (
    <div class="card" data-testid="account-status">
      <Notice error={error} what="The SMTP account" />
      {status ? (
        <dl class="facts">
          <dt>Username</dt>
          <dd class="mono">{status.username}</dd>
          <dt>Last rotated</dt>
          <dd data-testid="last-rotated" data-iso={status.last_rotated}>
            <Time iso={status.last_rotated} />
          </dd>
          <dt>Next scheduled rotation</dt>
          <dd>
            <Time iso={status.next_rotation} />
          </dd>
          <dt>Checkout</dt>
          <dd data-testid="checkout-state">
            {status.checkout ? (
              <span class="row">
                <span>
                  Checked out by {status.checkout.checked_out_by_email ?? 'an admin'} until {time(status.checkout.expires_at)}
                </span>
                <button type="button" class="small danger" disabled={ending} aria-busy={ending || undefined} onClick={onEnd}>
                  {ending ? 'Ending…' : 'End checkout now'}
                </button>
              </span>
            ) : (
              <span class="muted">not checked out</span>
            )}
          </dd>
        </dl>
      ) : (
        <Loading loading={!error} />
      )}
      <FeedbackAt feedback={feedback} at="checkout" what="Ending the checkout" />
    </div>
  );
}

const STATUS_REFRESH_MS = 15_000;

export function VaultPage({ tenantId }: { tenantId: string }) {
  const [dialog, setDialog] = useState<'reauth' | 'reauth-reset' | 'reset' | 'end' | null>(null);
  // An emergency reset answers the new password: it needs a re-authentication first, as a reveal does.
  const [resetToken, setResetToken] = useState<string | null>(null);
  const [checkout, setCheckout] = useState<Checkout | null>(null);
  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const [ending, setEnding] = useState(false);
  const tenant = useLoad(() => api.tenants.get(tenantId), [tenantId]);
  const audit = useLoad(() => api.vault.audit(tenantId), [tenantId]);
  const status = useLoad(() => api.vault.status(tenantId), [tenantId]);
  // Rotations happen without this page (a checkout's end, the schedule, another admin): read again
  // every few seconds while the tab is shown, and at once when it is shown again.
  useAutoRefresh(() => {
    status.reload();
    audit.reload();
  }, STATUS_REFRESH_MS);
  const refresh = () => {
    status.reload();
    audit.reload();
  };

  async function reveal(reauthToken: string) {
    setDialog(null);
    setFeedback(null);
    try {
      const result = await api.vault.reveal(tenantId, reauthToken);
      setCheckout({
        username: result.username,
        password: decodeBase64(result.password),
        webmailUrl: result.webmail_url,
        expiresAt: result.expires_at,
        revealedAt: Date.now(),
        lastRotated: result.last_rotated,
        nextRotation: result.next_rotation,
      });
      refresh();
    } catch (failure) {
      setFeedback({ at: 'reveal', error: failure });
    }
  }

  const [rotateReason, setRotateReason] = useState<{ reason: string; form: HTMLFormElement } | null>(null);

  // Rotating breaks the tenant's mail until every system using the account has the new
  // password: ask first.
  function rotate(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    setFeedback(null);
    setRotateReason({ reason: formValue(form, 'reason'), form });
  }

  async function rotateNow(reason: string, form: HTMLFormElement) {
    const result = await api.vault.rotate(tenantId, reason);
    setRotateReason(null);
    setFeedback({ at: 'rotate', ok: `Rotated at ${time(result.rotated_at)}; next scheduled rotation ${time(result.next_rotation)}.` });
    setCheckout(null);
    form.reset();
    refresh();
  }

  async function endCheckout() {
    setDialog(null);
    setFeedback(null);
    setEnding(true);
    try {
      const result = await api.vault.endCheckout(tenantId);
      setCheckout(null);
      setFeedback({ at: 'checkout', ok: `Checkout ended: the password was rotated at ${time(result.rotated_at)}; the one revealed no longer works.` });
      refresh();
    } catch (failure) {
      setFeedback({ at: 'checkout', error: failure });
    } finally {
      setEnding(false);
    }
  }

  return (
    <section>
      <TenantHeading tenantId={tenantId} title="SMTP account" />

      <p>The platform's own SMTP account for this tenant. Reading its password checks it out for a short time; relaykey rotates it when the checkout ends.</p>
      <AccountCard
        status={status.data}
        error={status.error}
        feedback={feedback}
        ending={ending}
        onEnd={() => {
          setFeedback(null);
          setDialog('end');
        }}
      />
      <div class="gap-top">
        {checkout ? (
          <CheckoutCard tenantId={tenantId} checkout={checkout} onHide={() => setCheckout(null)} />
        ) : (
          <button
            type="button"
            onClick={() => {
              setFeedback(null);
              setDialog('reauth');
            }}
          >
            Reveal SMTP password
          </button>
        )}
        <FeedbackAt feedback={feedback} at="reveal" what="The vaulted SMTP account" />
      </div>
      <div class="grid2 gap-top">
        <form class="stack card" onSubmit={rotate} aria-label="Rotate the SMTP password">
          <h2>Rotate now</h2>
          <label>
            Reason
            <input name="reason" required maxLength={500} placeholder="security review" />
          </label>
          <div>
            <button type="submit" class="secondary">
              Rotate SMTP password
            </button>
          </div>
          <FeedbackAt feedback={feedback} at="rotate" what="Rotating the SMTP password" />
        </form>
        <div class="stack card">
          <h2>Emergency reset</h2>
          <p class="small">For a suspected compromise: replace the password at once, recorded against an incident.</p>
          <div>
            <button
              type="button"
              class="danger"
              onClick={() => {
                setFeedback(null);
                setDialog('reauth-reset');
              }}
              disabled={!tenant.data}
            >
              Emergency reset…
            </button>
          </div>
        </div>
      </div>
      <h2>Account history</h2>
      <Notice error={audit.error} what="The SMTP account history" />
      <Loading loading={audit.loading && !audit.data} />
      {audit.data ? (
        <Table caption="SMTP account history" head={['Time', 'Event', 'By', 'Severity', 'Details']} empty={audit.data.events.length === 0}>
          {audit.data.events.map((event: VaultAuditEvent) => (
            <tr key={event.id}>
              <td>
                <Time iso={event.timestamp} />
              </td>
              <td>{event.event}</td>
              <td class="mono small">{event.user_id}</td>
              <td>{event.severity}</td>
              <td class="mono small wrap">{event.details ? JSON.stringify(event.details) : ''}</td>
            </tr>
          ))}
        </Table>
      ) : null}

      {rotateReason ? (
        <ConfirmDialog
          title="Rotate the SMTP password now?"
          confirm="Rotate now"
          onClose={() => setRotateReason(null)}
          onConfirm={() => rotateNow(rotateReason.reason, rotateReason.form)}
        >
          <p>
            The current password stops working at once: mail sent through this tenant's SMTP account fails until every system that uses it has the new password.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === 'end' ? (
        <ConfirmDialog title="End this checkout now?" confirm="End checkout now" onClose={() => setDialog(null)} onConfirm={endCheckout}>
          <p>The revealed password is rotated at once: anyone still holding it can no longer use it, and mail sent with it fails.</p>
        </ConfirmDialog>
      ) : null}
      {dialog === 'reauth' ? <ReauthDialog onClose={() => setDialog(null)} onToken={reveal} /> : null}
      {dialog === 'reauth-reset' ? (
        <ReauthDialog
          confirm="Confirm"
          onClose={() => setDialog(null)}
          onToken={(token) => {
            setResetToken(token);
            setDialog('reset');
          }}
        />
      ) : null}
      {dialog === 'reset' && tenant.data && resetToken ? (
        <ResetDialog
          tenantName={tenant.data.name}
          tenantId={tenantId}
          reauthToken={resetToken}
          onClose={() => setDialog(null)}
          onReset={(next) => {
            setDialog(null);
            setCheckout(next);
            refresh();
          }}
        />
      ) : null}
    </section>
  );
}
