// A tenant's settings: name, domain, webmail URL, protocol connection info, mail backends, inactivity.
import { useState } from 'preact/hooks';
import { api, type Protocol, type Tenant, type TenantInput } from '../api';
import { Loading, Notice, type Submit, Success, TenantHeading, formValue, useLoad } from '../ui';

const PROTOCOLS: Protocol[] = ['smtp', 'imap', 'pop3'];

function readForm(form: HTMLFormElement): TenantInput {
  const data = new FormData(form);
  const connection_info: TenantInput['connection_info'] = {};
  const backends: Partial<Record<Protocol, string>> = {};
  for (const protocol of PROTOCOLS) {
    const server = formValue(form, `${protocol}_server`);
    const port = Number(formValue(form, `${protocol}_port`));
    const securePort = Number(formValue(form, `${protocol}_secure_port`));
    connection_info[protocol] = {
      ...(server ? { server_name: server } : {}),
      ...(port ? { port } : {}),
      ...(securePort ? { secure_port: securePort } : {}),
      enabled: data.get(`${protocol}_enabled`) === 'on',
    };
    const backend = formValue(form, `${protocol}_backend`);
    if (backend) backends[protocol] = backend;
  }
  const inactivity = Number(formValue(form, 'inactivity_days'));
  return {
    name: formValue(form, 'name'),
    domain: formValue(form, 'domain') || null,
    webmail_url: formValue(form, 'webmail_url') || null,
    connection_info,
    mail_backends: Object.keys(backends).length ? backends : null,
    ...(inactivity ? { settings: { inactivity_days: inactivity } } : {}),
  };
}

function SettingsForm({ tenant, onSaved }: { tenant: Tenant; onSaved: (tenant: Tenant) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  async function submit(event: Submit) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onSaved(await api.tenants.update(tenant.id, readForm(event.currentTarget)));
      setSaved(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="stack" onSubmit={submit} aria-label="Tenant settings">
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
      <Notice error={error} what="Changing settings" />
      {saved ? <Success>Settings saved.</Success> : null}
      <div class="row">
        <button type="submit" disabled={busy}>
          Save settings
        </button>
      </div>
    </form>
  );
}

export function TenantSettingsPage({ tenantId }: { tenantId: string }) {
  const tenant = useLoad(() => api.tenants.get(tenantId), [tenantId]);
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
          <SettingsForm key={tenant.data.id} tenant={tenant.data} onSaved={() => undefined} />
        </>
      ) : null}
    </section>
  );
}
