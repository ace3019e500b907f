// One credential: its id (copyable), how to connect with it (server, ports, the exact user name),
// what it may do (scopes, networks, senders, quotas, expiry), its usage, sessions and audit trail;
// edit (PATCH), hold, rotate, revoke, and "end grace now" for a key rotated out.
import { useState } from 'preact/hooks';
import { type Credential, type CreatedCredential, type CredentialPatch, type Protocol, type Tenant, api } from '../api';
import { href } from '../router';
import {
  ConfirmDialog,
  Loading,
  Notice,
  SecretDialog,
  type Submit,
  Success,
  show,
  Table,
  TenantHeading,
  Time,
  copyText,
  formValue,
  localToIso,
  useLoad,
  useSubmission,
} from '../ui';
import { VerificationAnalyticsView } from './analytics';
import { RevokeDialog, RotateDialog, StateBadge, canManage, credentialState } from './credentials';

const MAIL: Protocol[] = ['smtp', 'imap', 'pop3'];
const LIMITS = [
  ['messages_per_hour', 'Messages per hour'],
  ['messages_per_day', 'Messages per day'],
  ['recipients_per_message', 'Recipients per message'],
  ['recipients_per_day', 'Recipients per day'],
] as const;

/** The user name a mail client must type with this secret (src/domain/verification.ts usernameMatches). */
export function mailUsername(credential: Credential, loginAddress: string | null): string {
  if (credential.surface === 'seed003' && credential.public_key) return credential.public_key;
  if (loginAddress) return loginAddress;
  if (credential.surface === 'seed001') return 'any user name';
  if (credential.surface === 'smtp_account') return credential.metadata.username ?? 'the SMTP account’s user name';
  return credential.id;
}

/** Mail protocols the credential may use: its scopes, or for a role the tenant's enabled ones. */
function mailProtocols(credential: Credential, tenant: Tenant): Protocol[] {
  if (credential.role) return MAIL.filter((p) => tenant.connection_info[p].enabled && (credential.role !== 'send_only' || p === 'smtp'));
  return MAIL.filter((p) => credential.scopes.includes(p));
}

function lines(value: string): string[] | null {
  const list = value
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter(Boolean);
  return list.length ? list : null;
}

function isoToLocal(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function EditForm({ credential, onSaved }: { credential: Credential; onSaved: (next: Credential) => void }) {
  const { busy, error, run } = useSubmission();
  const [saved, setSaved] = useState<string | null>(null);
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    setSaved(null);
    const patch: CredentialPatch = {};
    const name = formValue(form, 'name');
    if (name !== credential.name) patch.name = name;
    const expires = localToIso(formValue(form, 'expires_at')) ?? null;
    if ((expires ?? '') !== (credential.expires_at ? new Date(credential.expires_at).toISOString() : '')) patch.expires_at = expires;
    const networks = lines(formValue(form, 'allowed_networks'));
    if (JSON.stringify(networks) !== JSON.stringify(credential.allowed_networks)) patch.allowed_networks = networks;
    const senders = lines(formValue(form, 'allowed_senders'));
    if (JSON.stringify(senders) !== JSON.stringify(credential.allowed_senders)) patch.allowed_senders = senders;
    // A missing field has no limit (the API refuses null inside), 0 allows nothing.
    const limits = Object.fromEntries(LIMITS.filter(([key]) => formValue(form, key) !== '').map(([key]) => [key, Number(formValue(form, key))]));
    const before = Object.fromEntries(
      LIMITS.filter(([key]) => credential.sending_limits?.[key] != null).map(([key]) => [key, credential.sending_limits?.[key]]),
    );
    if (JSON.stringify(limits) !== JSON.stringify(before)) patch.sending_limits = Object.keys(limits).length ? limits : null;
    await run(async () => {
      if (Object.keys(patch).length === 0) {
        setSaved('Nothing changed.');
        return;
      }
      // The parent remounts this form with the saved values (key: updated_at) and says it is saved.
      onSaved(await api.credentials.update(credential.tenant_id, credential.id, patch));
    });
  }
  return (
    <form class="stack card" onSubmit={submit} aria-label="Edit credential">
      <h2>Edit</h2>
      <div class="grid2">
        <label>
          Name
          <input name="name" required maxLength={200} defaultValue={credential.name} />
        </label>
        <label>
          Expires <span class="muted">(your local time; empty: never)</span>
          <input name="expires_at" type="datetime-local" defaultValue={isoToLocal(credential.expires_at)} />
        </label>
        <label>
          Allowed networks <span class="muted">(CIDRs, one per line; empty: any)</span>
          <textarea name="allowed_networks" rows={3} defaultValue={(credential.allowed_networks ?? []).join('\n')} />
        </label>
        <label>
          Allowed senders <span class="muted">(addresses or @domain; empty: the default)</span>
          <textarea name="allowed_senders" rows={3} defaultValue={(credential.allowed_senders ?? []).join('\n')} />
        </label>
      </div>
      <fieldset>
        <legend>Sending limits (empty: the tenant's)</legend>
        <div class="grid4">
          {LIMITS.map(([key, label]) => (
            <label key={key}>
              {label}
              <input name={key} type="number" min={0} defaultValue={credential.sending_limits?.[key] ?? ''} />
            </label>
          ))}
        </div>
      </fieldset>
      <Notice error={error} what="Saving the credential" />
      {saved ? <Success>{saved}</Success> : null}
      <div class="row">
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

function Usage({ credential }: { credential: Credential }) {
  const usage = useLoad(() => api.credentials.usage(credential.tenant_id, credential.id), [credential.id]);
  if (usage.error) return <Notice error={usage.error} what="Usage" />;
  if (!usage.data) return <Loading loading={usage.loading} />;
  const { hour, day, limits, counted_for } = usage.data;
  const cap = (value: number | null) => (value === null ? 'no limit' : String(value));
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
    <section class="table-wrap" tabIndex={0} aria-label="Usage">
      <table data-testid="usage">
        <caption>Sent this UTC hour and day{counted_for === 'login' ? ' (counted for the login, shared by its credentials)' : ''}</caption>
        <thead>
          <tr>
            <th scope="col">Window</th>
            <th scope="col">Messages</th>
            <th scope="col">Recipients</th>
            <th scope="col">Rejected</th>
            <th scope="col">Deferred</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">This hour</th>
            <td>
              {hour.messages} <span class="muted small">of {cap(limits.messages_per_hour)}</span>
            </td>
            <td>{hour.recipients}</td>
            <td>{hour.rejected}</td>
            <td>{hour.deferred}</td>
          </tr>
          <tr>
            <th scope="row">Today</th>
            <td>
              {day.messages} <span class="muted small">of {cap(limits.messages_per_day)}</span>
            </td>
            <td>
              {day.recipients} <span class="muted small">of {cap(limits.recipients_per_day)}</span>
            </td>
            <td>{day.rejected}</td>
            <td>{day.deferred}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function Trail({ credential }: { credential: Credential }) {
  const events = useLoad(() => api.audit.list(credential.tenant_id, { target: credential.id, per_page: 20 }), [credential.id, credential.updated_at]);
  return (
    <>
      <Notice error={events.error} what="The credential's audit trail" />
      {events.data ? (
        <Table caption="Audit of this credential" head={['Time', 'Event', 'Actor']} empty={events.data.data.length === 0}>
          {events.data.data.map((event) => (
            <tr key={event.id} data-event={event.event}>
              <td>
                <Time iso={event.occurred_at} />
              </td>
              <td class="mono">{event.event}</td>
              <td class="small">{event.actor.type}</td>
            </tr>
          ))}
        </Table>
      ) : null}
      <p>
        <a href={href(`/tenants/${credential.tenant_id}/audit`, { target: credential.id })}>All audit events of this credential</a>
      </p>
    </>
  );
}

function Sessions({ credential }: { credential: Credential }) {
  const sessions = useLoad(() => api.credentials.sessions(credential.tenant_id, credential.id), [credential.id]);
  return (
    <>
      <Notice error={sessions.error} what="Sessions" />
      {sessions.data ? (
        <Table caption="Sessions of this credential" head={['IP', 'Client', 'Country', 'Protocol', 'Last seen']} empty={sessions.data.length === 0}>
          {sessions.data.map((session) => (
            <tr key={session.id}>
              <td class="mono">{session.ip_address}</td>
              <td>
                {show(session.user_agent_family)} <span class="muted">{session.user_agent_version}</span>
              </td>
              <td>{show(session.country)}</td>
              <td>{session.protocol}</td>
              <td>
                <Time iso={session.last_seen_at} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
    </>
  );
}

type Open = 'rotate' | 'revoke' | 'end-grace' | null;

export function CredentialPage({ tenantId, credentialId }: { tenantId: string; credentialId: string }) {
  const loaded = useLoad(() => api.credentials.get(tenantId, credentialId), [tenantId, credentialId]);
  const tenant = useLoad(() => api.tenants.get(tenantId), [tenantId]);
  const [override, setOverride] = useState<Credential | null>(null);
  const credential = override?.id === credentialId ? override : loaded.data;
  const login = useLoad(
    () => (credential?.login_id ? api.logins.list(tenantId, { per_page: 200 }) : Promise.resolve(null)),
    [tenantId, credential?.login_id ?? ''],
  );
  const [open, setOpen] = useState<Open>(null);
  const [secret, setSecret] = useState<CreatedCredential | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const { busy, error, run } = useSubmission();
  const [done, setDone] = useState<string | null>(null);
  const refresh = async () => setOverride(await api.credentials.get(tenantId, credentialId));

  if (!credential) {
    return (
      <section>
        <TenantHeading tenantId={tenantId} title="Credential" />
        <Notice error={loaded.error} what="This credential" />
        <Loading loading={loaded.loading} />
      </section>
    );
  }
  const loginAddress = credential.login_id ? (login.data?.data.find((l) => l.id === credential.login_id)?.address ?? null) : null;
  const state = credentialState(credential);
  const manageable = canManage(credential);
  const username = mailUsername(credential, loginAddress);
  const protocols = tenant.data ? mailProtocols(credential, tenant.data) : [];

  return (
    <section>
      <TenantHeading tenantId={tenantId} title={`Credential ${credential.name}`} />
      <p>
        <a href={href(`/tenants/${tenantId}/credentials`)}>← All credentials</a>
      </p>
      <Notice error={error} what="This action" />
      {done ? <Success>{done}</Success> : null}
      <div class="grid2">
        <dl class="facts card" data-testid="credential-facts">
          <dt>Status</dt>
          <dd>
            <StateBadge credential={credential} />
          </dd>
          <dt>ID</dt>
          <dd>
            <code data-testid="credential-id">{credential.id}</code>{' '}
            <button
              type="button"
              class="small secondary"
              onClick={async () => setCopied((await copyText(credential.id, null)) ? 'ID copied.' : 'Copy failed: select the ID and copy it by hand.')}
            >
              Copy ID
            </button>
            {copied ? <span role="status"> {copied}</span> : null}
          </dd>
          <dt>Key</dt>
          <dd class="mono">{credential.key_hint}</dd>
          <dt>Kind</dt>
          <dd>
            {credential.kind} <span class="muted small">({credential.surface})</span>
          </dd>
          <dt>Login</dt>
          <dd>{credential.login_id ? (loginAddress ?? credential.login_id) : 'whole tenant'}</dd>
          <dt>Access</dt>
          <dd data-testid="access">{credential.role ? `role ${credential.role}` : credential.scopes.join(', ')}</dd>
          <dt>Allowed networks</dt>
          <dd>{credential.allowed_networks?.length ? credential.allowed_networks.join(', ') : 'any'}</dd>
          <dt>Allowed senders</dt>
          <dd data-testid="senders">
            {credential.allowed_senders?.length
              ? credential.allowed_senders.join(', ')
              : credential.login_id
                ? 'default: the login’s address and aliases'
                : 'default: the tenant’s domains'}
          </dd>
          <dt>Sending limits</dt>
          <dd data-testid="limits">
            {credential.sending_limits && LIMITS.some(([key]) => credential.sending_limits?.[key] != null)
              ? LIMITS.filter(([key]) => credential.sending_limits?.[key] != null)
                  .map(([key, label]) => `${label}: ${credential.sending_limits?.[key]}`)
                  .join('; ')
              : 'the tenant’s defaults'}
          </dd>
          <dt>Expires</dt>
          <dd>{credential.expires_at ? <Time iso={credential.expires_at} /> : 'never'}</dd>
          <dt>Created</dt>
          <dd>
            <Time iso={credential.created_at} />
          </dd>
          <dt>Last used</dt>
          <dd>
            <Time iso={credential.last_used_at} />
          </dd>
          {credential.replaces_id ? (
            <>
              <dt>Replaces</dt>
              <dd>
                <a href={href(`/tenants/${tenantId}/credentials/${credential.replaces_id}`)}>the credential it replaced</a>
              </dd>
            </>
          ) : null}
          {credential.revoked_reason ? (
            <>
              <dt>Revoked</dt>
              <dd>
                <Time iso={credential.revoked_at} /> — {credential.revoked_reason}
              </dd>
            </>
          ) : null}
        </dl>
        <div class="stack card">
          <h2>Connect with it</h2>
          {protocols.length ? (
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
            <section class="table-wrap" tabIndex={0} aria-label="Connection details">
              <table data-testid="connection">
                <caption class="visually-hidden">Connection details</caption>
                <thead>
                  <tr>
                    <th scope="col">Protocol</th>
                    <th scope="col">Server</th>
                    <th scope="col">Ports</th>
                  </tr>
                </thead>
                <tbody>
                  {protocols.map((protocol) => {
                    const info = tenant.data?.connection_info[protocol];
                    return (
                      <tr key={protocol} data-protocol={protocol}>
                        <th scope="row">{protocol.toUpperCase()}</th>
                        <td class="mono">{info?.server_name || '—'}</td>
                        <td>
                          {info?.secure_port} (TLS), {info?.port} (STARTTLS)
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ) : (
            <p class="muted">No mail protocol: an API key.</p>
          )}
          <p>
            User name to type: <code data-testid="username">{username}</code>
          </p>
          <p class="muted small">The password is the secret shown once when the credential was created or rotated.</p>
          <div class="row">
            {manageable ? (
              <>
                <button
                  type="button"
                  class="secondary"
                  disabled={busy}
                  aria-busy={busy || undefined}
                  onClick={() =>
                    run(async () => {
                      const next = credential.held
                        ? await api.credentials.unhold(tenantId, credential.id)
                        : await api.credentials.hold(tenantId, credential.id);
                      setOverride(next);
                      setDone(next.held ? `${next.name} is on hold.` : `${next.name} is released.`);
                    })
                  }
                >
                  {busy ? 'Working…' : credential.held ? 'Unhold' : 'Hold'}
                </button>
                <button type="button" class="secondary" onClick={() => setOpen('rotate')}>
                  Rotate
                </button>
                <button type="button" class="danger" onClick={() => setOpen('revoke')}>
                  Revoke
                </button>
              </>
            ) : null}
            {state.label === 'grace' ? (
              <button type="button" class="danger" onClick={() => setOpen('end-grace')}>
                End grace now
              </button>
            ) : null}
          </div>
        </div>
      </div>
      <h2>Usage</h2>
      <Usage credential={credential} />
      {manageable ? (
        <EditForm
          key={credential.updated_at}
          credential={credential}
          onSaved={(next) => {
            setOverride(next);
            setDone('Changes saved.');
          }}
        />
      ) : null}
      <h2>Verifications</h2>
      <VerificationAnalyticsView tenantId={credential.tenant_id} credentialId={credential.id} />
      <h2>Sessions</h2>
      <Sessions credential={credential} />
      <h2>Audit</h2>
      <Trail credential={credential} />

      {open === 'revoke' ? (
        <RevokeDialog
          credential={credential}
          onClose={() => setOpen(null)}
          onDone={async () => {
            setOpen(null);
            setDone(`${credential.name} is revoked.`);
            await refresh();
          }}
        />
      ) : null}
      {open === 'rotate' ? (
        <RotateDialog
          credential={credential}
          onClose={() => setOpen(null)}
          onRotated={async (issued) => {
            setOpen(null);
            setSecret(issued);
            await refresh();
          }}
        />
      ) : null}
      {open === 'end-grace' ? (
        <ConfirmDialog
          title="End the grace period now?"
          confirm="End grace now"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            await api.credentials.revoke(tenantId, credential.id, 'grace period ended from the console');
            setOpen(null);
            setDone(`${credential.name} stopped working: its grace period is over.`);
            await refresh();
          }}
        >
          <p>The old secret stops working at once, on every mail server. Clients not yet switched to the new secret will fail to sign in.</p>
        </ConfirmDialog>
      ) : null}
      {secret ? (
        <SecretDialog
          title={`New secret for ${secret.name}`}
          secret={secret.secret}
          onClose={() => setSecret(null)}
          extra={
            <p>
              The new credential has its own page: <a href={href(`/tenants/${tenantId}/credentials/${secret.id}`)}>{secret.name}</a>.
            </p>
          }
        />
      ) : null}
    </section>
  );
}
