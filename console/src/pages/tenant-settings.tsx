// A tenant's settings: name, domain, webmail URL, protocol connection info, mail backends, inactivity.
import { useState } from 'preact/hooks';
import { api, currentSession, type Protocol, type Tenant, type TenantInput } from '../api';
import { Loading, Notice, type Submit, Success, TenantHeading, formValue, useLoad, useSubmission } from '../ui';

const PROTOCOLS: Protocol[] = ['smtp', 'imap', 'pop3'];

/** Only what changed goes into the PATCH, so the audit trail names the fields really changed. */
function changes(form: HTMLFormElement, tenant: Tenant): TenantInput {
  const data = new FormData(form);
  const patch: TenantInput = {};
  const name = formValue(form, 'name');
  if (name !== tenant.name) patch.name = name;
  const domain = formValue(form, 'domain') || null;
  if (domain !== tenant.domain) patch.domain = domain;
  const webmail = formValue(form, 'webmail_url') || null;
  if (webmail !== tenant.webmail_url) patch.webmail_url = webmail;
  const connection: NonNullable<TenantInput['connection_info']> = {};
  const backends: Partial<Record<Protocol, string>> = {};
  for (const protocol of PROTOCOLS) {
    const before = tenant.connection_info[protocol];
    const after = {
      server_name: formValue(form, `${protocol}_server`),
      port: Number(formValue(form, `${protocol}_port`)),
      secure_port: Number(formValue(form, `${protocol}_secure_port`)),
      enabled: data.get(`${protocol}_enabled`) === 'on',
    };
    const changed = Object.fromEntries(
      Object.entries(after).filter(([key, value]) => value !== before[key as keyof typeof before] && value !== '' && value !== 0),
    );
    if (Object.keys(changed).length) connection[protocol] = changed;
    const backend = formValue(form, `${protocol}_backend`);
    if (backend) backends[protocol] = backend;
  }
  if (Object.keys(connection).length) patch.connection_info = connection;
  const nextBackends = Object.keys(backends).length ? backends : null;
  if (JSON.stringify(nextBackends) !== JSON.stringify(tenant.mail_backends ?? null)) patch.mail_backends = nextBackends;
  const inactivity = Number(formValue(form, 'inactivity_days'));
  if (inactivity && inactivity !== tenant.settings.inactivity_days) patch.settings = { inactivity_days: inactivity };
  return patch;
}

function SettingsForm({ tenant: initial, admin }: { tenant: Tenant; admin: boolean }) {
  const [tenant, setTenant] = useState(initial);
  const { busy, error, run } = useSubmission();
  const [saved, setSaved] = useState<string | false>(false);
  async function submit(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    setSaved(false);
    await run(async () => {
      const patch = changes(form, tenant);
      if (Object.keys(patch).length === 0) setSaved('Nothing changed.');
      else {
        setTenant(await api.tenants.update(tenant.id, patch));
        setSaved('Settings saved.');
      }
    });
  }
  return (
    <form class="stack" onSubmit={submit} aria-label="Tenant settings">
      {admin ? null : (
        <p class="notice notice-info" data-testid="read-only">
          Only platform admins change a tenant's settings: shown here read-only.
        </p>
      )}
      <fieldset class="plain" disabled={!admin}>
        <div class="grid2">
          <label>
            Name
            <input name="name" required defaultValue={tenant.name} />
          </label>
          <label>
            Domain
            <input name="domain" defaultValue={tenant.domain ?? ''} placeholder="example.com" />
          </label>
          <label>
            Webmail URL
            <input name="webmail_url" type="url" defaultValue={tenant.webmail_url ?? ''} placeholder="https://mail.example.com" />
          </label>
          <label>
            Revoke unused credentials after (days)
            <input name="inactivity_days" type="number" min={1} max={3650} defaultValue={tenant.settings.inactivity_days ?? ''} />
          </label>
        </div>
        {PROTOCOLS.map((protocol) => {
          const connection = tenant.connection_info[protocol];
          return (
            <fieldset key={protocol}>
              <legend>{protocol.toUpperCase()} connection</legend>
              <div class="grid4">
                <label>
                  Server name
                  <input name={`${protocol}_server`} defaultValue={connection.server_name} />
                </label>
                <label>
                  Port
                  <input name={`${protocol}_port`} type="number" min={1} max={65535} defaultValue={connection.port} />
                </label>
                <label>
                  Secure port
                  <input name={`${protocol}_secure_port`} type="number" min={1} max={65535} defaultValue={connection.secure_port} />
                </label>
                <label>
                  Mail backend (ip:port)
                  <input name={`${protocol}_backend`} defaultValue={tenant.mail_backends?.[protocol] ?? ''} placeholder="127.0.0.1:2525" />
                </label>
                <label class="inline">
                  <input name={`${protocol}_enabled`} type="checkbox" defaultChecked={connection.enabled} /> Enabled
                </label>
              </div>
            </fieldset>
          );
        })}
      </fieldset>
      <Notice error={error} what="Changing settings" />
      {saved ? <Success>{saved}</Success> : null}
      {admin ? (
        <div class="row">
          <button type="submit" disabled={busy}>
            Save settings
          </button>
        </div>
      ) : null}
    </form>
  );
}

/** The tenant's mail domains: logins, aliases and the SMTP account live only inside them. */
function DomainsSection({ tenantId, admin }: { tenantId: string; admin: boolean }) {
  const domains = useLoad(() => api.domains.list(tenantId), [tenantId]);
  const { busy, error, run } = useSubmission();
  const [done, setDone] = useState<string | null>(null);
  async function assign(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    setDone(null);
    await run(async () => {
      const owned = await api.domains.assign(tenantId, formValue(form, 'domain'));
      setDone(`Domain ${owned.domain} belongs to this tenant.`);
      form.reset();
      domains.reload();
    });
  }
  async function remove(domain: string) {
    setDone(null);
    await run(async () => {
      await api.domains.remove(tenantId, domain);
      setDone(`Domain ${domain} removed.`);
      domains.reload();
    });
  }
  return (
    <fieldset aria-label="Domains">
      <legend>Domains</legend>
      <p class="muted small">A domain belongs to one tenant. Logins, aliases and the SMTP account of this tenant must be inside its domains.</p>
      <Notice error={domains.error} what="The domain list" />
      {domains.data ? (
        <ul data-testid="domains">
          {domains.data.data.map((d) => (
            <li key={d.domain}>
              <code>{d.domain}</code>{' '}
              {admin ? (
                <button type="button" class="link" disabled={busy} onClick={() => remove(d.domain)}>
                  Remove {d.domain}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {admin ? (
        <form class="row" onSubmit={assign} aria-label="Assign a domain">
          <label class="grow">
            Domain to assign
            <input name="domain" required placeholder="example.com" />
          </label>
          <button type="submit" disabled={busy}>
            Assign domain
          </button>
        </form>
      ) : null}
      <Notice error={error} what="Changing domains" />
      {done ? <Success>{done}</Success> : null}
    </fieldset>
  );
}

export function TenantSettingsPage({ tenantId }: { tenantId: string }) {
  const tenant = useLoad(() => api.tenants.get(tenantId), [tenantId]);
  const admin = currentSession()?.kind === 'admin';
  return (
    <section>
      <TenantHeading tenantId={tenantId} title="Settings" />
      <Notice error={tenant.error} what="This tenant" />
      <Loading loading={tenant.loading && !tenant.data} />
      {tenant.data ? (
        <>
          <p class="muted small">
            Tenant ID <code>{tenant.data.id}</code>
          </p>
          <SettingsForm key={tenant.data.id} tenant={tenant.data} admin={admin} />
          <DomainsSection tenantId={tenant.data.id} admin={admin} />
        </>
      ) : null}
    </section>
  );
}
