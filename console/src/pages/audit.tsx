// A tenant's audit trail: filters (event, actor, severity, time range) and the hash chain's status.
import { api, type ChainCheck, currentSession } from '../api';
import { navigate, type Route } from '../router';
import { Loading, Notice, Pager, type Submit, Table, TenantHeading, Time, formValue, localToIso, useLoad } from '../ui';

const PER_PAGE = 50;
const FILTERS = ['event', 'actor', 'severity', 'since', 'until'] as const;

function isoToLocal(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function ChainStatus({ check }: { check: ChainCheck }) {
  if (check.ok) {
    return (
      <p class="notice notice-ok" role="status" data-testid="chain-status">
        Audit chain intact: {check.events} event{check.events === 1 ? '' : 's'} in {check.chains} chain{check.chains === 1 ? '' : 's'} verified.
      </p>
    );
  }
  return (
    <div class="notice notice-error" role="alert" data-testid="chain-status">
      <strong>Audit chain BROKEN: the trail was changed outside relaykey.</strong>
      <ul>
        {check.problems.map((p) => (
          <li key={`${p.chain}-${p.event_id}`}>
            chain {p.chain}: {p.event_id ? `event ${p.event_id} (seq ${p.seq})` : 'end of chain'}: {p.problem}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function AuditPage({ tenantId, route }: { tenantId: string | null; route: Route }) {
  const base = tenantId ? `/tenants/${tenantId}/audit` : '/audit';
  const q = route.query;
  const page = Math.max(1, Number(q.get('page') ?? '1') || 1);
  const filter = Object.fromEntries(FILTERS.map((f) => [f, q.get(f) ?? undefined]).filter(([, v]) => v)) as Record<string, string>;
  const key = q.toString();
  const events = useLoad(() => api.audit.list(tenantId, { ...filter, page, per_page: PER_PAGE }), [tenantId, key]);
  const admin = currentSession()?.kind === 'admin';
  const chain = useLoad(() => (admin ? api.audit.verify(tenantId ?? undefined) : Promise.resolve(null)), [tenantId, admin]);

  const verifyButton = admin ? (
    <button type="button" class="secondary" onClick={chain.reload}>
      Verify {tenantId ? 'chain' : 'all chains'} again
    </button>
  ) : null;

  function apply(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    navigate(base, {
      event: formValue(form, 'event').replace(/\s+/g, '') || undefined,
      actor: formValue(form, 'actor') || undefined,
      severity: formValue(form, 'severity') || undefined,
      since: localToIso(formValue(form, 'since')),
      until: localToIso(formValue(form, 'until')),
    });
  }

  return (
    <section>
      {tenantId ? (
        <TenantHeading tenantId={tenantId} title="Audit">
          {verifyButton}
        </TenantHeading>
      ) : (
        <div class="page-head">
          <h1 tabIndex={-1}>Platform audit</h1>
          {verifyButton}
        </div>
      )}
      {tenantId ? null : <p class="muted">Admin sign-ins, re-authentication and platform tokens. Each tenant's own trail is on its Audit tab.</p>}
      <Notice error={chain.error} what="Chain verification" />
      {chain.data ? <ChainStatus check={chain.data} /> : null}
      <form class="filters" onSubmit={apply} aria-label="Filter audit events" key={key}>
        <label>
          Event
          <input name="event" defaultValue={filter.event ?? ''} placeholder="credential.created,credential.revoked" />
        </label>
        <label>
          Actor ID
          <input name="actor" defaultValue={filter.actor ?? ''} />
        </label>
        <label>
          Severity
          <select name="severity">
            {['', 'info', 'warning', 'critical'].map((severity) => (
              <option key={severity} value={severity} selected={(filter.severity ?? '') === severity}>
                {severity || 'Any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input name="since" type="datetime-local" defaultValue={isoToLocal(filter.since ?? null)} />
        </label>
        <label>
          Until
          <input name="until" type="datetime-local" defaultValue={isoToLocal(filter.until ?? null)} />
        </label>
        <div class="row end">
          <button type="submit">Apply filters</button>
          <button type="button" class="secondary" onClick={() => navigate(base)}>
            Clear
          </button>
        </div>
      </form>
      <Notice error={events.error} what="The audit trail" />
      <Loading loading={events.loading && !events.data} />
      {events.data ? (
        <>
          <Table caption="Audit events" head={['Time', 'Event', 'Severity', 'Actor', 'Target', 'IP', 'Details']} empty={events.data.data.length === 0}>
            {events.data.data.map((event) => (
              <tr key={event.id} data-event={event.event}>
                <td>
                  <Time iso={event.occurred_at} />
                </td>
                <td class="mono">{event.event}</td>
                <td>
                  <span class={`badge badge-${event.severity}`}>{event.severity}</span>
                </td>
                <td class="small">
                  {event.actor.type}
                  <div class="mono muted wrap">{event.actor.id}</div>
                </td>
                <td class="small">{event.target ? `${event.target.type} ${event.target.id}` : '—'}</td>
                <td class="mono small">{event.client_ip ?? '—'}</td>
                <td class="mono small wrap">{Object.keys(event.details).length ? JSON.stringify(event.details) : ''}</td>
              </tr>
            ))}
          </Table>
          <Pager
            page={events.data.pagination.page}
            perPage={events.data.pagination.per_page}
            total={events.data.pagination.total}
            go={(next) => navigate(base, { ...filter, page: next })}
          />
        </>
      ) : null}
    </section>
  );
}
