// A tenant's webhook endpoints, their deliveries, and redelivery of one delivery.
import { useState } from 'preact/hooks';
import { api, type Loose } from '../api';
import { Loading, Notice, pick, SecretDialog, show, type Submit, Success, Table, TenantHeading, Time, formValue, useLoad } from '../ui';

function Deliveries({ tenantId, webhook }: { tenantId: string; webhook: Loose }) {
  const id = String(webhook.id);
  const deliveries = useLoad(() => api.webhooks.deliveries(tenantId, id), [tenantId, id]);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <section aria-label={`Deliveries to ${show(webhook.url)}`}>
      <h2>
        Deliveries to <span class="mono">{show(webhook.url)}</span>
      </h2>
      <Notice error={deliveries.error} what="Webhook deliveries" />
      <Notice error={error} what="Redelivery" />
      {done ? <Success>{done}</Success> : null}
      <Loading loading={deliveries.loading && !deliveries.data} />
      {deliveries.data ? (
        <Table caption="Deliveries" head={['Created', 'Event', 'Status', 'Attempts', 'Response', '']} empty={deliveries.data.length === 0}>
          {deliveries.data.map((delivery) => {
            const deliveryId = String(delivery.id);
            return (
              <tr key={deliveryId}>
                <td>
                  <Time iso={pick(delivery, 'created_at', 'occurred_at')} />
                </td>
                <td class="mono">{show(pick(delivery, 'event_type', 'event', 'type'))}</td>
                <td>{show(pick(delivery, 'status', 'state'))}</td>
                <td>{show(pick(delivery, 'attempts', 'attempt_count'))}</td>
                <td>{show(pick(delivery, 'response_status', 'last_status', 'last_response_status', 'last_error'))}</td>
                <td>
                  <button
                    type="button"
                    class="small secondary"
                    onClick={async () => {
                      setError(null);
                      try {
                        await api.webhooks.redeliver(tenantId, deliveryId);
                        setDone(`Delivery ${deliveryId} queued again.`);
                        deliveries.reload();
                      } catch (failure) {
                        setError(failure);
                      }
                    }}
                  >
                    Redeliver
                  </button>
                </td>
              </tr>
            );
          })}
        </Table>
      ) : null}
    </section>
  );
}

export function WebhooksPage({ tenantId }: { tenantId: string }) {
  const hooks = useLoad(() => api.webhooks.list(tenantId), [tenantId]);
  const [selected, setSelected] = useState<Loose | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);

  async function create(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const events = formValue(form, 'events')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    setError(null);
    try {
      const created = await api.webhooks.create(tenantId, { url: formValue(form, 'url'), ...(events.length ? { events } : {}) });
      form.reset();
      const signing = pick(created, 'secret', 'signing_secret');
      if (typeof signing === 'string') setSecret(signing);
      hooks.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      hooks.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  if (hooks.error && !hooks.data) {
    return (
      <section>
        <TenantHeading tenantId={tenantId} title="Webhooks" />
        <Notice error={hooks.error} what="Webhooks" />
      </section>
    );
  }

  return (
    <section>
      <TenantHeading tenantId={tenantId} title="Webhooks" />
      <form class="row" onSubmit={create} aria-label="Add a webhook endpoint">
        <label class="grow">
          Endpoint URL
          <input name="url" type="url" required placeholder="https://hooks.example.com/relaykey" />
        </label>
        <label class="grow">
          Events <span class="muted">(comma-separated; empty for all)</span>
          <input name="events" />
        </label>
        <button type="submit">Add endpoint</button>
      </form>
      <Notice error={error} what="Webhooks" />
      <Loading loading={hooks.loading && !hooks.data} />
      {hooks.data ? (
        <Table caption="Webhook endpoints" head={['URL', 'Events', 'Enabled', 'Created', 'Actions']} empty={hooks.data.length === 0}>
          {hooks.data.map((hook) => {
            const id = String(hook.id);
            const enabledKey = 'enabled' in hook ? 'enabled' : 'active';
            const enabled = hook[enabledKey] !== false;
            return (
              <tr key={id}>
                <td class="mono wrap">{show(hook.url)}</td>
                <td>{show(pick(hook, 'events', 'event_types')) === '—' ? 'all' : show(pick(hook, 'events', 'event_types'))}</td>
                <td>{enabled ? 'yes' : 'no'}</td>
                <td>
                  <Time iso={hook.created_at} />
                </td>
                <td class="actions">
                  <button type="button" class="small secondary" onClick={() => setSelected(hook)}>
                    Deliveries
                  </button>
                  <button type="button" class="small secondary" onClick={() => run(() => api.webhooks.update(tenantId, id, { [enabledKey]: !enabled }))}>
                    {enabled ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" class="small danger" onClick={() => run(() => api.webhooks.remove(tenantId, id))}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </Table>
      ) : null}
      {selected ? <Deliveries key={String(selected.id)} tenantId={tenantId} webhook={selected} /> : null}
      {secret ? <SecretDialog title="Webhook signing secret" secret={secret} onClose={() => setSecret(null)} /> : null}
    </section>
  );
}
