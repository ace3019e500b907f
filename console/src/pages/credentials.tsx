// Credentials of a tenant (or of one login): list, create (secret shown once), hold, unhold,
// revoke with a reason, rotate with a grace period, and the sessions seen using each.
import { useState } from 'preact/hooks';
import { api, currentSession, type Credential, type CreatedCredential, type Login } from '../api';
import { href, navigate, type Route } from '../router';
import { mailUsername } from './credential';
import {
  Dialog,
  Loading,
  Notice,
  Pager,
  SecretDialog,
  type Submit,
  Success,
  show,
  Table,
  TenantHeading,
  Time,
  formValue,
  localToIso,
  useLoad,
  useSubmission,
} from '../ui';

const SCOPES = ['smtp', 'imap', 'pop3', 'api:read', 'api:write', 'app', 'internal'];
const ROLES = ['standard', 'send_only', 'read_only', 'iac'];
const PER_PAGE = 50;

/**
 * What the operator needs to know at a glance: a key rotated out but still working in its grace
 * period is not "revoked" (red) but "grace" until it stops.
 */
export function credentialState(credential: Credential, now = Date.now()): { label: string; tone: string; note: string | null } {
  const inGrace = credential.status === 'revoked' && credential.grace_until !== null && new Date(credential.grace_until).getTime() > now;
  if (inGrace) return { label: 'grace', tone: 'grace', note: 'rotated out; still works until' };
  return { label: credential.status, tone: credential.status, note: null };
}

/** Hold, rotate and revoke make sense only for a live key the native API manages. */
export function canManage(credential: Credential): boolean {
  return credential.surface !== 'smtp_account' && (credential.status === 'active' || credential.status === 'held');
}

function CreateCredential({
  tenantId,
  logins,
  loginId,
  onClose,
  onCreated,
}: {
  tenantId: string;
  logins: Login[];
  loginId: string | null;
  onClose: () => void;
  onCreated: (credential: CreatedCredential) => void;
}) {
  const { busy, error, setError, run } = useSubmission();
  const [grant, setGrant] = useState<'scopes' | 'role'>('scopes');
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const scopes = data.getAll('scope').map(String);
    const login = formValue(form, 'login_id');
    const expires = localToIso(formValue(form, 'expires_at'));
    if (grant === 'scopes' && scopes.length === 0) {
      setError(new Error('Choose at least one scope.'));
      return;
    }
    await run(async () => {
      onCreated(
        await api.credentials.create(tenantId, {
          name: formValue(form, 'name'),
          kind: formValue(form, 'kind') === 'API' ? 'API' : 'SMTP',
          login_id: login || null,
          ...(grant === 'scopes' ? { scopes } : { role: formValue(form, 'role') }),
          ...(expires ? { expires_at: expires } : {}),
        }),
      );
    });
  }
  return (
    <Dialog title="Create a credential" onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        {error instanceof Error && !('status' in error) ? (
          <p class="notice notice-error" role="alert">
            {error.message}
          </p>
        ) : (
          <Notice error={error} what="Creating credentials" />
        )}
        <label>
          Name
          <input name="name" required maxLength={200} placeholder="Thunderbird on laptop" />
        </label>
        <div class="grid2">
          <label>
            Kind
            <select name="kind">
              <option value="SMTP">SMTP (mail protocols)</option>
              <option value="API">API</option>
            </select>
          </label>
          <label>
            Login
            <select name="login_id">
              <option value="">Whole tenant (no login)</option>
              {logins.map((login) => (
                <option key={login.id} value={login.id} selected={login.id === loginId}>
                  {login.address}
                </option>
              ))}
            </select>
          </label>
        </div>
        <fieldset>
          <legend>Access</legend>
          <label class="inline">
            <input type="radio" name="grant" checked={grant === 'scopes'} onChange={() => setGrant('scopes')} /> Scopes
          </label>
          <label class="inline">
            <input type="radio" name="grant" checked={grant === 'role'} onChange={() => setGrant('role')} /> Role
          </label>
          {grant === 'scopes' ? (
            <div class="checks">
              {SCOPES.map((scope) => (
                <label class="inline" key={scope}>
                  <input type="checkbox" name="scope" value={scope} defaultChecked={scope === 'smtp'} /> {scope}
                </label>
              ))}
            </div>
          ) : (
            <label>
              Role
              <select name="role">
                {ROLES.map((role) => (
                  <option key={role} value={role}>
                    {role}
                  </option>
                ))}
              </select>
            </label>
          )}
        </fieldset>
        <label>
          Expires <span class="muted">(optional, your local time)</span>
          <input name="expires_at" type="datetime-local" />
        </label>
        <div class="row">
          <button type="submit" disabled={busy}>
            Create credential
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function RevokeDialog({ credential, onClose, onDone }: { credential: Credential; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={`Revoke ${credential.name}`} onClose={onClose}>
      <form
        class="stack"
        onSubmit={async (event: Submit) => {
          event.preventDefault();
          try {
            await api.credentials.revoke(credential.tenant_id, credential.id, formValue(event.currentTarget, 'reason'));
            onDone();
          } catch (failure) {
            setError(failure);
          }
        }}
      >
        <p>Revoking is permanent: the secret stops working on every mail server within seconds.</p>
        <Notice error={error} what="Revoking" />
        <label>
          Reason
          <input name="reason" required maxLength={500} placeholder="device lost" />
        </label>
        <div class="row">
          <button type="submit" class="danger">
            Revoke credential
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function RotateDialog({
  credential,
  onClose,
  onRotated,
}: {
  credential: Credential;
  onClose: () => void;
  onRotated: (issued: CreatedCredential) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={`Rotate ${credential.name}`} onClose={onClose}>
      <form
        class="stack"
        onSubmit={async (event: Submit) => {
          event.preventDefault();
          try {
            onRotated(await api.credentials.rotate(credential.tenant_id, credential.id, Number(formValue(event.currentTarget, 'grace')) || 0));
          } catch (failure) {
            setError(failure);
          }
        }}
      >
        <p>A new secret replaces this one. During the grace period the old secret keeps working, so clients can switch over.</p>
        <Notice error={error} what="Rotating" />
        <label>
          Grace period (seconds)
          <input name="grace" type="number" min={0} max={2592000} defaultValue="3600" required />
        </label>
        <div class="row">
          <button type="submit">Rotate now</button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function SessionsDialog({ credential, onClose }: { credential: Credential; onClose: () => void }) {
  const sessions = useLoad(() => api.credentials.sessions(credential.tenant_id, credential.id), [credential.id]);
  return (
    <Dialog title={`Sessions of ${credential.name}`} onClose={onClose}>
      <Notice error={sessions.error} what="Credential sessions" />
      <Loading loading={sessions.loading} />
      {sessions.data ? (
        <Table caption="Sessions" head={['IP', 'Client', 'Country', 'Protocol', 'First seen', 'Last seen']} empty={sessions.data.length === 0}>
          {sessions.data.map((session) => (
            <tr key={session.id} data-session={session.id}>
              <td class="mono">{session.ip_address}</td>
              <td>
                {show(session.user_agent_family)} <span class="muted">{session.user_agent_version}</span>
                {session.os_family ? <span class="muted small"> on {[session.os_family, session.os_version].filter(Boolean).join(' ')}</span> : null}
              </td>
              <td>{show(session.country)}</td>
              <td>{session.protocol}</td>
              <td>
                <Time iso={session.first_seen_at} />
              </td>
              <td>
                <Time iso={session.last_seen_at} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
    </Dialog>
  );
}

export function StateBadge({ credential }: { credential: Credential }) {
  const state = credentialState(credential);
  return (
    <>
      <span class={`badge badge-${state.tone}`} data-testid="status">
        {state.label}
      </span>
      {state.note && credential.grace_until ? (
        <div class="muted small">
          {state.note} <Time iso={credential.grace_until} />
        </div>
      ) : null}
      {credential.status === 'expired' ? (
        <div class="muted small">
          expired <Time iso={credential.expires_at} />
        </div>
      ) : null}
    </>
  );
}

type Open =
  | { kind: 'create' }
  | { kind: 'secret'; credential: CreatedCredential; rotated?: boolean }
  | { kind: 'revoke' | 'rotate' | 'sessions'; credential: Credential }
  | null;

export function CredentialsPage({ tenantId, route }: { tenantId: string; route: Route }) {
  const loginId = route.query.get('login');
  const page = Math.max(1, Number(route.query.get('page') ?? '1') || 1);
  const status = route.query.get('status') ?? '';
  const [open, setOpen] = useState<Open>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Per-login views filter one large page: the API lists a tenant's credentials.
  const list = useLoad(
    () => api.credentials.list(tenantId, { page: loginId ? 1 : page, per_page: loginId ? 200 : PER_PAGE, status: status || undefined }),
    [tenantId, page, loginId, status],
  );
  const logins = useLoad(() => api.logins.list(tenantId, { per_page: 200 }), [tenantId]);
  const loginById = new Map((logins.data?.data ?? []).map((l) => [l.id, l.address]));
  const search = (route.query.get('q') ?? '').trim().toLowerCase();
  const sort = route.query.get('sort') ?? '';
  // Search and sort work on the page shown (up to PER_PAGE credentials, or a login's 200).
  const rows = (list.data?.data ?? [])
    .filter((c) => !loginId || c.login_id === loginId)
    .filter((c) => !search || [c.name, c.id, c.key_hint, loginById.get(c.login_id ?? '') ?? ''].some((v) => v.toLowerCase().includes(search)));
  if (sort === 'name') rows.sort((a, b) => a.name.localeCompare(b.name));
  else if (sort === 'last_used') rows.sort((a, b) => (b.last_used_at ?? '').localeCompare(a.last_used_at ?? ''));
  else if (sort === 'newest') rows.sort((a, b) => b.created_at.localeCompare(a.created_at));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkRevoke, setBulkRevoke] = useState(false);
  const chosen = rows.filter((c) => selected.has(c.id) && canManage(c));
  const query = (extra: Record<string, string | undefined>) => ({
    login: loginId ?? undefined,
    status: status || undefined,
    q: search || undefined,
    sort: sort || undefined,
    ...extra,
  });

  /** Runs one action on every chosen credential, one after another; says how many worked. */
  async function bulk(what: string, action: (c: Credential) => Promise<unknown>) {
    setActionError(null);
    setDone(null);
    setBusy('bulk');
    let worked = 0;
    let failure: unknown = null;
    for (const credential of chosen) {
      try {
        await action(credential);
        worked += 1;
      } catch (error) {
        failure = error;
      }
    }
    setBusy(null);
    setSelected(new Set());
    setDone(`${what} ${worked} of ${chosen.length} credential${chosen.length === 1 ? '' : 's'}.`);
    if (failure) setActionError(failure);
    list.reload();
  }

  async function act(credential: Credential, action: 'hold' | 'unhold') {
    setActionError(null);
    setDone(null);
    setBusy(credential.id);
    try {
      await api.credentials[action](tenantId, credential.id);
      setDone(`${credential.name} ${action === 'hold' ? 'is on hold: it stops verifying until released' : 'is released'}.`);
      list.reload();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section>
      <TenantHeading tenantId={tenantId} title={loginId ? `Credentials of ${loginById.get(loginId) ?? 'a login'}` : 'Credentials'}>
        <button type="button" onClick={() => setOpen({ kind: 'create' })}>
          Create credential
        </button>
      </TenantHeading>
      <div class="row">
        <label>
          Status
          <select
            value={status}
            onChange={(event) => navigate(`/tenants/${tenantId}/credentials`, { login: loginId ?? undefined, status: event.currentTarget.value || undefined })}
          >
            <option value="">All</option>
            <option value="active">Not revoked</option>
            <option value="held">Held</option>
            <option value="expired">Expired</option>
            <option value="revoked">Revoked</option>
          </select>
        </label>
        <form
          class="row"
          aria-label="Credential search"
          onSubmit={(event: Submit) => {
            event.preventDefault();
            navigate(`/tenants/${tenantId}/credentials`, query({ q: formValue(event.currentTarget, 'q') || undefined }));
          }}
        >
          <label>
            Search credentials
            <input name="q" type="search" defaultValue={route.query.get('q') ?? ''} placeholder="name, ID, key or login" />
          </label>
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        <label>
          Sort by
          <select value={sort} onChange={(event) => navigate(`/tenants/${tenantId}/credentials`, query({ sort: event.currentTarget.value || undefined }))}>
            <option value="">Oldest first</option>
            <option value="newest">Newest first</option>
            <option value="name">Name</option>
            <option value="last_used">Last used</option>
          </select>
        </label>
        {loginId ? <a href={href(`/tenants/${tenantId}/credentials`)}>Show the whole tenant</a> : null}
      </div>
      {chosen.length ? (
        <section class="row notice notice-info" aria-label="Selected credentials">
          <span data-testid="selection">{chosen.length} selected</span>
          <button
            type="button"
            class="secondary"
            disabled={busy === 'bulk'}
            aria-busy={busy === 'bulk' || undefined}
            onClick={() => bulk('Held', (c) => api.credentials.hold(tenantId, c.id))}
          >
            {busy === 'bulk' ? 'Working…' : 'Hold selected'}
          </button>
          <button type="button" class="danger" disabled={busy === 'bulk'} onClick={() => setBulkRevoke(true)}>
            Revoke selected…
          </button>
        </section>
      ) : null}
      <Notice error={actionError} what="This action" />
      {done ? <Success>{done}</Success> : null}
      <Notice error={list.error} what="The credential list" />
      <Loading loading={list.loading && !list.data} />
      {list.data ? (
        <>
          <Table
            caption="Credentials"
            head={['Select', 'Name', 'Key', 'Status', 'Access', 'Login', 'Last used', 'Expires', 'Actions']}
            empty={rows.length === 0}
          >
            {rows.map((credential) => (
              <tr key={credential.id} data-credential={credential.name} data-credential-id={credential.id}>
                <td>
                  {canManage(credential) ? (
                    <input
                      type="checkbox"
                      aria-label={`Select ${credential.name}`}
                      checked={selected.has(credential.id)}
                      onChange={(event) => {
                        const next = new Set(selected);
                        if (event.currentTarget.checked) next.add(credential.id);
                        else next.delete(credential.id);
                        setSelected(next);
                      }}
                    />
                  ) : null}
                </td>
                <td>
                  <a href={href(`/tenants/${tenantId}/credentials/${credential.id}`)} aria-label={`Open ${credential.name}`}>
                    {credential.name}
                  </a>
                  <div class="muted small">{credential.kind}</div>
                </td>
                <td class="mono">{credential.key_hint}</td>
                <td>
                  <StateBadge credential={credential} />
                  {credential.revoked_reason ? <div class="muted small">{credential.revoked_reason}</div> : null}
                </td>
                <td>{credential.role ? `role ${credential.role}` : credential.scopes.join(', ')}</td>
                <td>{credential.login_id ? (loginById.get(credential.login_id) ?? credential.login_id) : <span class="muted">tenant</span>}</td>
                <td>
                  <Time iso={credential.last_used_at} />
                </td>
                <td>
                  <Time iso={credential.expires_at} />
                </td>
                <td class="actions">
                  {canManage(credential) ? (
                    <>
                      {credential.held ? (
                        <button
                          type="button"
                          class="small secondary"
                          disabled={busy === credential.id}
                          aria-busy={busy === credential.id || undefined}
                          onClick={() => act(credential, 'unhold')}
                        >
                          {busy === credential.id ? 'Releasing…' : 'Unhold'}
                        </button>
                      ) : (
                        <button
                          type="button"
                          class="small secondary"
                          disabled={busy === credential.id}
                          aria-busy={busy === credential.id || undefined}
                          onClick={() => act(credential, 'hold')}
                        >
                          {busy === credential.id ? 'Holding…' : 'Hold'}
                        </button>
                      )}
                      <button type="button" class="small secondary" disabled={busy === credential.id} onClick={() => setOpen({ kind: 'rotate', credential })}>
                        Rotate
                      </button>
                      <button type="button" class="small danger" disabled={busy === credential.id} onClick={() => setOpen({ kind: 'revoke', credential })}>
                        Revoke
                      </button>
                    </>
                  ) : credential.surface === 'smtp_account' ? (
                    <span class="muted small" data-testid="vaulted-note">
                      The platform's SMTP account: managed on the{' '}
                      {currentSession()?.kind === 'admin' ? <a href={href(`/tenants/${tenantId}/smtp`)}>SMTP account</a> : 'SMTP account'} page.
                    </span>
                  ) : null}
                  <button type="button" class="small secondary" onClick={() => setOpen({ kind: 'sessions', credential })}>
                    Sessions
                  </button>
                </td>
              </tr>
            ))}
          </Table>
          {loginId ? null : (
            <Pager
              page={list.data.pagination.page}
              perPage={list.data.pagination.per_page}
              total={list.data.pagination.total}
              go={(next) => navigate(`/tenants/${tenantId}/credentials`, { status: status || undefined, page: next })}
            />
          )}
        </>
      ) : null}
      {open?.kind === 'create' ? (
        <CreateCredential
          tenantId={tenantId}
          logins={logins.data?.data ?? []}
          loginId={loginId}
          onClose={() => setOpen(null)}
          onCreated={(credential) => {
            setOpen({ kind: 'secret', credential });
            list.reload();
          }}
        />
      ) : null}
      {open?.kind === 'secret' ? (
        <SecretDialog
          title={open.rotated ? `New secret for ${open.credential.name}` : `Credential ${open.credential.name} created`}
          secret={open.credential.secret}
          onClose={() => setOpen(null)}
          extra={
            <p data-testid="secret-username">
              User name to type with it: <code>{mailUsername(open.credential, loginById.get(open.credential.login_id ?? '') ?? null)}</code>. Server, ports and
              the rest: <a href={href(`/tenants/${tenantId}/credentials/${open.credential.id}`)}>the credential's page</a> (once this is closed).
            </p>
          }
        />
      ) : null}
      {open?.kind === 'revoke' ? (
        <RevokeDialog
          credential={open.credential}
          onClose={() => setOpen(null)}
          onDone={() => {
            setDone(`${open.credential.name} is revoked.`);
            setOpen(null);
            list.reload();
          }}
        />
      ) : null}
      {open?.kind === 'rotate' ? (
        <RotateDialog
          credential={open.credential}
          onClose={() => setOpen(null)}
          onRotated={(issued) => {
            setOpen({ kind: 'secret', credential: issued, rotated: true });
            list.reload();
          }}
        />
      ) : null}
      {bulkRevoke ? (
        <Dialog title={`Revoke ${chosen.length} credentials`} onClose={() => setBulkRevoke(false)}>
          <form
            class="stack"
            onSubmit={async (event: Submit) => {
              event.preventDefault();
              const reason = formValue(event.currentTarget, 'reason');
              setBulkRevoke(false);
              await bulk('Revoked', (c) => api.credentials.revoke(tenantId, c.id, reason));
            }}
          >
            <p>Revoking is permanent: these secrets stop working on every mail server within seconds.</p>
            <ul>
              {chosen.map((c) => (
                <li key={c.id}>{c.name}</li>
              ))}
            </ul>
            <label>
              Reason
              <input name="reason" required maxLength={500} placeholder="offboarding" />
            </label>
            <div class="row">
              <button type="submit" class="danger">
                Revoke {chosen.length} credentials
              </button>
              <button type="button" class="secondary" onClick={() => setBulkRevoke(false)}>
                Cancel
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
      {open?.kind === 'sessions' ? <SessionsDialog credential={open.credential} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}
