// A tenant's webhook endpoints with their health, a test event, signing-secret rotation, their
// deliveries, and redelivery of one delivery.
import { useState } from 'preact/hooks';
import { api, type WebhookDelivery, type WebhookEndpoint } from '../api';
import { ConfirmDialog, Loading, Notice, SecretDialog, type Submit, Success, Table, TenantHeading, Time, formValue, useLoad } from '../ui';

function Response({ delivery }: { delivery: WebhookDelivery }) {
  if (delivery.last_status_code !== null) return <span>HTTP {delivery.last_status_code}</span>;
  if (delivery.last_error) return <span class="small wrap">{delivery.last_error}</span>;
  return <span class="muted">—</span>;
}

/** A pending delivery that has failed before is being retried: say so, and when the next try is. */
export function DeliveryState({ delivery }: { delivery: WebhookDelivery }) {
  const failed = delivery.last_error !== null || (delivery.last_status_code !== null && (delivery.last_status_code < 200 || delivery.last_status_code > 299));
  const retrying = delivery.status === 'pending' && delivery.attempts > 0 && failed;
  const label = retrying ? 'retrying' : delivery.status === 'dead' ? 'failed' : delivery.status;
  return (
    <>
      <span
        class={`badge badge-${retrying ? 'retrying' : delivery.status === 'delivered' ? 'active' : delivery.status === 'dead' ? 'dead' : 'held'}`}
        data-testid="delivery-status"
      >
        {label}
      </span>
      {retrying && delivery.next_attempt_at ? (
        <div class="muted small" data-testid="next-retry">
          next try <Time iso={delivery.next_attempt_at} />
        </div>
      ) : null}
      {delivery.status === 'dead' ? <div class="muted small">gave up after {delivery.attempts} attempts</div> : null}
    </>
  );
}

/** One delivery: a compact row, and on demand what was sent and what came back. */
function DeliveryRow({ delivery, onRedeliver }: { delivery: WebhookDelivery; tenantId: string; onRedeliver: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const detailId = `delivery-${delivery.id}`;
  return (
    <>
      <tr data-delivery={delivery.id}>
        <td>
          <Time iso={delivery.created_at} />
        </td>
        <td class="mono">{delivery.event_type}</td>
        <td>
          <DeliveryState delivery={delivery} />
        </td>
        <td>{delivery.attempts}</td>
        <td>
          <Time iso={delivery.last_attempt_at} />
        </td>
        <td>
          <Response delivery={delivery} />
        </td>
        <td class="actions">
          <button type="button" class="small secondary" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
            {open ? 'Hide details' : 'Details'}
          </button>
          <button type="button" class="small secondary" onClick={onRedeliver}>
            Redeliver
          </button>
        </td>
      </tr>
      {open ? (
        <tr id={detailId} class="detail" data-testid="delivery-detail">
          <td colSpan={7}>
            <dl class="facts">
              <dt>Delivery ID</dt>
              <dd class="mono">{delivery.id} (the webhook-id header)</dd>
              <dt>Attempts</dt>
              <dd>{delivery.attempts}</dd>
              <dt>Last response</dt>
              <dd>
                {delivery.last_status_code !== null ? `HTTP ${delivery.last_status_code}` : '—'}
                {delivery.last_error ? <span class="wrap"> — {delivery.last_error}</span> : null}
              </dd>
              <dt>Next attempt</dt>
              <dd>{delivery.next_attempt_at && delivery.status === 'pending' ? <Time iso={delivery.next_attempt_at} /> : '—'}</dd>
              <dt>Delivered</dt>
              <dd>
                <Time iso={delivery.delivered_at} />
              </dd>
              <dt>Payload</dt>
              <dd>
                <pre class="mono wrap payload">{JSON.stringify(delivery.payload, null, 2)}</pre>
              </dd>
            </dl>
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Deliveries({ tenantId, webhook }: { tenantId: string; webhook: WebhookEndpoint }) {
  const id = webhook.id;
  const deliveries = useLoad(() => api.webhooks.deliveries(tenantId, id, { per_page: 50 }), [tenantId, id]);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <section aria-label={`Deliveries to ${webhook.url}`}>
      <h2>
        Deliveries to <span class="mono">{webhook.url}</span>
      </h2>
      <Notice error={deliveries.error} what="Webhook deliveries" />
      <Notice error={error} what="Redelivery" />
      {done ? <Success>{done}</Success> : null}
      <Loading loading={deliveries.loading && !deliveries.data} />
      {deliveries.data ? (
        <Table caption="Deliveries" head={['Created', 'Event', 'Status', 'Attempts', 'Last attempt', 'Response', '']} empty={deliveries.data.data.length === 0}>
          {deliveries.data.data.map((delivery) => {
            const deliveryId = delivery.id;
            return (
              <DeliveryRow
                key={deliveryId}
                delivery={delivery}
                tenantId={tenantId}
                onRedeliver={async () => {
                  setError(null);
                  try {
                    await api.webhooks.redeliver(tenantId, deliveryId);
                    setDone(`Delivery ${deliveryId} queued again.`);
                    deliveries.reload();
                  } catch (failure) {
                    setError(failure);
                  }
                }}
              />
            );
          })}
        </Table>
      ) : null}
    </section>
  );
}

const HEALTH_LABEL: Record<WebhookEndpoint['health']['state'], string> = {
  healthy: 'healthy',
  failing: 'failing',
  disabled: 'disabled',
  unused: 'no deliveries yet',
};
const HEALTH_BADGE: Record<WebhookEndpoint['health']['state'], string> = {
  healthy: 'active',
  failing: 'dead',
  disabled: 'expired',
  unused: 'info',
};

/** The endpoint's recent record: state, success rate over 24 h, failures in a row, last success and failure. */
function Health({ hook }: { hook: WebhookEndpoint }) {
  const health = hook.health;
  return (
    <div class="health" data-testid="webhook-health">
      <span class={`badge badge-${HEALTH_BADGE[health.state]}`} data-testid="health-state">
        {HEALTH_LABEL[health.state]}
      </span>
      <div class="small" data-testid="health-rate">
        {health.success_rate_24h === null
          ? 'nothing sent in 24 h'
          : `${Math.round(health.success_rate_24h * 100)}% of ${health.attempted_24h} delivered in 24 h`}
      </div>
      {health.consecutive_failures > 0 ? (
        <div class="small" data-testid="health-failures">
          {health.consecutive_failures} failed in a row{health.last_failure_error ? ` (${health.last_failure_error})` : ''}
        </div>
      ) : null}
      <div class="muted small">
        last success <Time iso={health.last_success_at} />
      </div>
      <div class="muted small">
        last failure <Time iso={health.last_failure_at} />
      </div>
    </div>
  );
}

const OVERLAPS: [seconds: number, label: string][] = [
  [0, 'no overlap: stop at once (a leaked secret)'],
  [3600, '1 hour'],
  [86_400, '24 hours'],
  [7 * 86_400, '7 days'],
];

function RotateSecretDialog({
  tenantId,
  hook,
  onClose,
  onRotated,
}: {
  tenantId: string;
  hook: WebhookEndpoint;
  onClose: () => void;
  onRotated: (rotated: WebhookEndpoint & { secret: string }) => void;
}) {
  const [overlap, setOverlap] = useState(86_400);
  return (
    <ConfirmDialog
      title="Rotate the signing secret?"
      confirm="Rotate secret"
      onClose={onClose}
      onConfirm={async () => onRotated(await api.webhooks.rotateSecret(tenantId, hook.id, overlap))}
    >
      <p>
        <span class="mono wrap">{hook.url}</span> gets a new signing secret, shown once. During the overlap every delivery carries two signatures (old and new
        secret), so the receiver can switch without losing a delivery.
      </p>
      <label>
        The old secret keeps signing for
        <select name="overlap" value={String(overlap)} onChange={(e) => setOverlap(Number(e.currentTarget.value))}>
          {OVERLAPS.map(([seconds, label]) => (
            <option key={seconds} value={String(seconds)}>
              {label}
            </option>
          ))}
        </select>
      </label>
    </ConfirmDialog>
  );
}

export function WebhooksPage({ tenantId }: { tenantId: string }) {
  const hooks = useLoad(() => api.webhooks.list(tenantId), [tenantId]);
  const [selected, setSelected] = useState<WebhookEndpoint | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [removing, setRemoving] = useState<WebhookEndpoint | null>(null);
  const [rotating, setRotating] = useState<WebhookEndpoint | null>(null);
  const [rotated, setRotated] = useState<(WebhookEndpoint & { secret: string }) | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState<{ id: string; text: string; ok: boolean } | null>(null);
  const [deliveriesKey, setDeliveriesKey] = useState(0);

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
      setSecret(created.secret);
      hooks.reload();
    } catch (failure) {
      setError(failure);
    }
  }

  async function run(action: () => Promise<unknown>, busyKey?: string) {
    setError(null);
    setDone(null);
    if (busyKey) setBusy(busyKey);
    try {
      await action();
      hooks.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      if (busyKey) setBusy(null);
    }
  }

  async function sendTest(hook: WebhookEndpoint) {
    let queued: WebhookDelivery | null = null;
    await run(async () => {
      queued = await api.webhooks.sendTest(tenantId, hook.id);
      setDone({ id: hook.id, ok: true, text: `Test event ${queued.id} queued for ${hook.url}: it goes out within a few seconds, signed like every delivery.` });
      setSelected(hook);
      setDeliveriesKey((k) => k + 1);
    }, `test:${hook.id}`);
    if (queued) await followTest(hook, (queued as WebhookDelivery).id);
  }

  /** Watches the test delivery's first attempt (the delivery job runs every few seconds) and says how it went, beside the row. */
  async function followTest(hook: WebhookEndpoint, deliveryId: string) {
    for (let tries = 0; tries < 30; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let delivery: WebhookDelivery | undefined;
      try {
        delivery = (await api.webhooks.deliveries(tenantId, hook.id, { per_page: 20 })).data.find((d) => d.id === deliveryId);
      } catch {
        return; // the page's own loads report errors; the follow-up just stops
      }
      if (!delivery || delivery.attempts === 0) continue;
      const answer = delivery.last_status_code !== null ? `HTTP ${delivery.last_status_code}` : (delivery.last_error ?? 'no answer');
      setDone({
        id: hook.id,
        ok: delivery.status === 'delivered',
        text:
          delivery.status === 'delivered'
            ? `Test event ${deliveryId} delivered: the receiver answered ${answer}.`
            : `Test event ${deliveryId} failed: ${answer}.${delivery.status === 'pending' ? ' It is retried like any delivery.' : ''}`,
      });
      hooks.reload();
      setDeliveriesKey((k) => k + 1);
      return;
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
        // Three columns, so that the health and the actions stay on screen on a phone.
        <Table caption="Webhook endpoints" head={['Endpoint', 'Health', 'Actions']} empty={hooks.data.length === 0}>
          {hooks.data.map((hook) => {
            const id = hook.id;
            const enabled = hook.enabled;
            return (
              <tr key={id} data-webhook={id}>
                <td>
                  <span class="mono wrap">{hook.url}</span>
                  <div class="muted small">
                    events: {hook.events.length ? hook.events.join(', ') : 'all'} · added <Time iso={hook.created_at} />
                  </div>
                  {hook.previous_secret_expires_at ? (
                    <div class="muted small" data-testid="secret-overlap">
                      old secret signs until <Time iso={hook.previous_secret_expires_at} />
                    </div>
                  ) : null}
                  {done?.id === id ? (
                    <p class={`notice ${done.ok ? 'notice-ok' : 'notice-error'} small`} role="status" data-testid="webhook-row-result">
                      {done.text}
                    </p>
                  ) : null}
                </td>
                <td>
                  <Health hook={hook} />
                </td>
                <td class="actions">
                  <button type="button" class="small secondary" onClick={() => setSelected(hook)}>
                    Deliveries
                  </button>
                  <button
                    type="button"
                    class="small secondary"
                    disabled={!enabled || busy === `test:${id}`}
                    aria-busy={busy === `test:${id}` || undefined}
                    title={enabled ? undefined : 'Enable the endpoint to send a test event'}
                    onClick={() => sendTest(hook)}
                  >
                    {busy === `test:${id}` ? 'Sending…' : 'Send test'}
                  </button>
                  <button type="button" class="small secondary" onClick={() => setRotating(hook)}>
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    class="small secondary"
                    disabled={busy === `enable:${id}`}
                    aria-busy={busy === `enable:${id}` || undefined}
                    onClick={() => run(() => api.webhooks.update(tenantId, id, { enabled: !enabled }), `enable:${id}`)}
                  >
                    {enabled ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" class="small danger" onClick={() => setRemoving(hook)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </Table>
      ) : null}
      {selected ? <Deliveries key={`${selected.id}:${deliveriesKey}`} tenantId={tenantId} webhook={selected} /> : null}
      {rotating ? (
        <RotateSecretDialog
          tenantId={tenantId}
          hook={rotating}
          onClose={() => setRotating(null)}
          onRotated={(result) => {
            setRotating(null);
            setRotated(result);
            hooks.reload();
          }}
        />
      ) : null}
      {rotated ? (
        <SecretDialog
          title="New webhook signing secret"
          secret={rotated.secret}
          onClose={() => setRotated(null)}
          extra={
            <p data-testid="rotation-overlap">
              {rotated.previous_secret_expires_at ? (
                <>
                  Until <Time iso={rotated.previous_secret_expires_at} /> deliveries are signed with both the old and the new secret: update the receiver before
                  then.
                </>
              ) : (
                'The old secret no longer signs: deliveries verify with the new secret only.'
              )}
            </p>
          }
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title="Delete this webhook endpoint?"
          confirm="Delete endpoint"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await api.webhooks.remove(tenantId, removing.id);
            if (selected?.id === removing.id) setSelected(null);
            setRemoving(null);
            hooks.reload();
          }}
        >
          <p>
            <span class="mono wrap">{removing.url}</span> stops receiving events at once, and its pending deliveries are dropped. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
      {secret ? <SecretDialog title="Webhook signing secret" secret={secret} onClose={() => setSecret(null)} /> : null}
    </section>
  );
}
