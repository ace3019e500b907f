// Platform admins: the list (owners add admins, disable and enable them) and the signed-in
// admin's own two-factor sign-in, enrolled with a QR code and confirmed with a code from the app.
import { create as createQr } from 'qrcode';
import { useState } from 'preact/hooks';
import { type AdminUser, api, currentSession, type TotpEnrolment } from '../api';
import { ConfirmDialog, Dialog, Notice, type Submit, Success, Table, Time, formValue, useLoad, useSubmission } from '../ui';

/**
 * The otpauth:// URI as an inline SVG QR code: drawn as one path from the module matrix, so the
 * console's CSP (no inline styles or scripts) has nothing to refuse.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, data } = createQr(text, { errorCorrectionLevel: 'M' }).modules;
  const quiet = 4;
  let path = '';
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) if (data[y * size + x]) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
  }
  const extent = size + quiet * 2;
  return (
    <svg
      class="qr"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${extent} ${extent}`}
      width="232"
      height="232"
      shape-rendering="crispEdges"
      data-testid="totp-qr"
    >
      <rect width={extent} height={extent} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

/** The base32 secret in groups of four, for typing into an app by hand. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function TotpEnrolmentDialog({ onClose, onEnabled }: { onClose: () => void; onEnabled: () => void }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const start = useSubmission();
  const confirm = useSubmission();
  return (
    <Dialog title="Set up two-factor sign-in" onClose={onClose}>
      {/* Keyed: the code field must be a new element, never the password field reused with its value. */}
      {enrolment ? (
        <form
          key="code"
          class="stack"
          aria-label="Confirm the authenticator"
          onSubmit={async (event: Submit) => {
            event.preventDefault();
            const code = formValue(event.currentTarget, 'code');
            await confirm.run(async () => {
              await api.totp.confirm(code);
              onEnabled();
            });
          }}
        >
          <p>Scan this code with an authenticator app (such as a phone's password manager), then type the 6-digit code it shows.</p>
          <div class="qr-wrap">
            <QrCode text={enrolment.otpauth_uri} label="QR code of the authenticator secret" />
          </div>
          <p class="small">
            No camera? Type this key into the app instead (time-based, 6 digits, 30 seconds):{' '}
            <span class="mono" data-testid="totp-secret">
              {grouped(enrolment.secret)}
            </span>
          </p>
          <label>
            Code from the app
            <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6,8}" required data-autofocus />
          </label>
          <Notice error={confirm.error} what="The code" />
          <div class="row">
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" disabled={confirm.busy} aria-busy={confirm.busy || undefined}>
              {confirm.busy ? 'Checking…' : 'Turn on two-factor sign-in'}
            </button>
          </div>
        </form>
      ) : (
        <form
          key="password"
          class="stack"
          aria-label="Confirm it is you"
          onSubmit={async (event: Submit) => {
            event.preventDefault();
            const password = (new FormData(event.currentTarget).get('password') as string) ?? '';
            await start.run(async () => setEnrolment(await api.totp.start(password)));
          }}
        >
          <p>Confirm your password to create a new authenticator key. Sign-in asks for a code only once you have confirmed one from the app.</p>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required data-autofocus />
          </label>
          <Notice error={start.error} what="Two-factor set-up" />
          <div class="row">
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" disabled={start.busy} aria-busy={start.busy || undefined}>
              {start.busy ? 'Checking…' : 'Continue'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** The signed-in admin's two-factor sign-in: on, or a button that enrols an authenticator. */
function TwoFactor({ me, onChanged }: { me: AdminUser | undefined; onChanged: () => void }) {
  const [enrolling, setEnrolling] = useState(false);
  const [enabled, setEnabled] = useState(false);
  if (!me) return null;
  return (
    <>
      <h2>Two-factor sign-in</h2>
      {me.totp_enabled ? (
        <p data-testid="totp-state">
          <span class="badge badge-active">on</span> Signing in as {me.email} asks for a code from your authenticator app.
        </p>
      ) : (
        <div class="row">
          <p class="grow" data-testid="totp-state">
            <span class="badge badge-warning">off</span> Your account signs in with a password alone.
          </p>
          <button type="button" onClick={() => setEnrolling(true)}>
            Set up authenticator
          </button>
        </div>
      )}
      {enabled ? <Success>Two-factor sign-in is on: from now on, sign-in asks for a code from your app.</Success> : null}
      {enrolling ? (
        <TotpEnrolmentDialog
          onClose={() => setEnrolling(false)}
          onEnabled={() => {
            setEnrolling(false);
            setEnabled(true);
            onChanged();
          }}
        />
      ) : null}
    </>
  );
}

function CreateAdmin({ onCreated }: { onCreated: (admin: AdminUser) => void }) {
  const { busy, error, run } = useSubmission();
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const password = (new FormData(form).get('password') as string) ?? '';
    await run(async () => {
      const created = await api.admins.create({ email: formValue(form, 'email'), password, role: formValue(form, 'role') === 'owner' ? 'owner' : 'admin' });
      form.reset();
      onCreated(created);
    });
  }
  return (
    <>
      <form class="row" onSubmit={submit} aria-label="Add an admin">
        <label class="grow">
          Email
          <input name="email" type="email" required maxLength={320} autoComplete="off" />
        </label>
        <label class="grow">
          Initial password <span class="muted">(12 characters or more)</span>
          <input name="password" type="password" required minLength={12} maxLength={1024} autoComplete="new-password" />
        </label>
        <label>
          Role
          <select name="role">
            <option value="admin">admin</option>
            <option value="owner">owner (also manages admins)</option>
          </select>
        </label>
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Adding…' : 'Add admin'}
        </button>
      </form>
      <Notice error={error} what="Adding an admin" />
    </>
  );
}

export function Admins() {
  const admins = useLoad(() => api.admins.list(), []);
  const [changing, setChanging] = useState<AdminUser | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const rows = admins.data ?? [];
  const session = currentSession();
  const myEmail = session?.kind === 'admin' ? session.email.trim().toLowerCase() : '';
  const me = rows.find((admin) => admin.email === myEmail);
  const owner = me?.role === 'owner';
  return (
    <>
      <TwoFactor me={me} onChanged={admins.reload} />
      <h2>Admins</h2>
      <p class="muted">
        {owner
          ? 'Owners add admins, and disable or enable them. A disabled admin cannot sign in, and is signed out at once.'
          : 'Only an owner can add, disable or enable admins.'}
      </p>
      {owner ? (
        <CreateAdmin
          onCreated={(created) => {
            setDone(`${created.email} can now sign in as ${created.role === 'owner' ? 'an owner' : 'an admin'}.`);
            admins.reload();
          }}
        />
      ) : null}
      {done ? <Success>{done}</Success> : null}
      <Notice error={admins.error} what="The admin list" />
      {admins.data ? (
        // Compact (four columns) so that the actions stay on screen on a phone.
        <Table caption="Platform admins" head={['Admin', 'TOTP', 'State', '']} empty={rows.length === 0}>
          {rows.map((admin) => (
            <tr key={admin.id} data-admin={admin.email}>
              <td class="wrap">
                {admin.email}
                {admin.email === myEmail ? <span class="muted"> (you)</span> : null}
                <div class="muted small">
                  <span data-testid="admin-role">{admin.role}</span> · added <Time iso={admin.created_at} />
                </div>
              </td>
              <td data-testid="admin-totp">{admin.totp_enabled ? 'on' : 'off'}</td>
              <td>
                {admin.disabled_at ? (
                  <span class="badge badge-revoked" data-testid="admin-state">
                    disabled
                  </span>
                ) : (
                  <span class="badge badge-active" data-testid="admin-state">
                    active
                  </span>
                )}
              </td>
              <td class="actions">
                {owner && admin.email !== myEmail ? (
                  <button type="button" class={`small ${admin.disabled_at ? 'secondary' : 'danger'}`} onClick={() => setChanging(admin)}>
                    {admin.disabled_at ? 'Enable' : 'Disable'}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      {changing ? (
        <ConfirmDialog
          title={changing.disabled_at ? `Enable ${changing.email}?` : `Disable ${changing.email}?`}
          confirm={changing.disabled_at ? 'Enable admin' : 'Disable admin'}
          danger={!changing.disabled_at}
          onClose={() => setChanging(null)}
          onConfirm={async () => {
            const changed = await api.admins.setDisabled(changing.id, !changing.disabled_at);
            setChanging(null);
            setDone(changed.disabled_at ? `${changed.email} is disabled and signed out everywhere.` : `${changed.email} can sign in again.`);
            admins.reload();
          }}
        >
          <p>
            {changing.disabled_at
              ? 'They can sign in again with their password (and code, if they use one).'
              : 'They are signed out of every session at once and cannot sign in until an owner enables them again.'}
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
