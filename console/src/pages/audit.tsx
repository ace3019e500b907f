// An audit trail (a tenant's or the platform's): compact rows that expand to the details, actors
// named (an admin's email, a token's name), targets linking to their pages, filters checked before
// they are sent (with the error beside the field), and CSV / JSON export of the filtered range.
import { useState } from 'preact/hooks';
import { type AuditEvent, type AuditFilter, api, type ChainCheck, currentSession } from '../api';
import { href, navigate, type Route } from '../router';
import { Loading, Notice, Pager, type Submit, TenantHeading, Time, formValue, localToIso, useLoad } from '../ui';

const PER_PAGE = 50;
const FILTERS = ['event', 'actor', 'target', 'severity', 'since', 'until'] as const;
const EXPORT_PAGE = 200;
const EXPORT_LIMIT = 10_000;

/** Event names relaykey writes (for suggestions and "did you mean"); the API accepts any name. */
export const KNOWN_EVENTS = [
  'admin.created',
  'admin.disabled',
  'admin.enabled',
  'admin.login',
  'admin.login_failed',
  'admin.logout',
  'admin.reauth',
  'admin.reauth_failed',
  'admin.session_ended',
  'admin.sessions_ended',
  'admin.totp_enabled',
  'admin.totp_enrolment_started',
  'credential.created',
  'credential.expired',
  'credential.grace_ended',
  'credential.held',
  'credential.inactivity_warning',
  'credential.locked',
  'credential.revoked',
  'credential.rotated',
  'credential.unheld',
  'credential.updated',
  'credentials.imported',
  'domain.assigned',
  'domain.removed',
  'login.alias_added',
  'login.alias_removed',
  'login.created',
  'root_key.rewrapped',
  'tenant.created',
  'tenant.updated',
  'token.created',
  'token.revoked',
  'webhook.created',
  'webhook.deleted',
  'webhook.redelivery_requested',
  'webhook.secret_rotated',
  'webhook.test_requested',
  'webhook.updated',
  'smtp_credentials_accessed',
  'smtp_credentials_access_denied',
  'smtp_credentials_created',
  'smtp_credentials_emergency_reset',
  'smtp_credentials_rotated',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest known event name, if one is close enough to be a typo. */
export function suggestEvent(name: string): string | null {
  let best: string | null = null;
  let bestDistance = 4;
  for (const known of KNOWN_EVENTS) {
    const d = distance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

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

type Names = Map<string, string>;

/** Admin emails and token names by id, for the actor column (admins only: tenants see the type). */
function useActorNames(tenantId: string | null, admin: boolean): Names {
  const loaded = useLoad(async () => {
    const names: Names = new Map();
    if (!admin) return names;
    const [admins, tokens, verifiers] = await Promise.all([
      api.admins.list().catch(() => []),
      tenantId ? api.tokens.list(tenantId).catch(() => []) : Promise.resolve([]),
      api.tokens.verifiers().catch(() => []),
    ]);
    for (const a of admins) names.set(a.id, a.email);
    for (const t of tokens) names.set(t.id, `${t.kind} token “${t.name}”`);
    for (const v of verifiers) names.set(v.id, `verifier token “${v.name}”`);
    return names;
  }, [tenantId, admin]);
  return loaded.data ?? new Map();
}

function actorText(event: AuditEvent, names: Names): string {
  return names.get(event.actor.id) ?? (event.actor.type === 'system' ? 'relaykey (system)' : `${event.actor.type} ${event.actor.id.slice(0, 8)}…`);
}

/** Where a target lives in the console, when it has a page. */
function targetHref(event: AuditEvent): string | null {
  const target = event.target;
  if (!target?.id) return null;
  const tenant = event.tenant_id;
  if (target.type === 'credential' && tenant) return href(`/tenants/${tenant}/credentials/${target.id}`);
  if (target.type === 'tenant') return href(`/tenants/${target.id}/settings`);
  if (target.type === 'login' && tenant) return href(`/tenants/${tenant}/credentials`, { login: target.id });
  if (target.type === 'webhook' && tenant) return href(`/tenants/${tenant}/webhooks`);
  if ((target.type === 'smtp_account' || target.type === 'smtp_credentials') && tenant) return href(`/tenants/${tenant}/smtp`);
  return null;
}

function Target({ event }: { event: AuditEvent }) {
  if (!event.target) return <span class="muted">—</span>;
  const link = targetHref(event);
  const label = `${event.target.type}${event.target.id ? ` ${event.target.id.slice(0, 8)}…` : ''}`;
  return link ? (
    <a href={link} title={event.target.id ?? undefined} data-testid="target-link">
      {label}
    </a>
  ) : (
    <span title={event.target.id ?? undefined}>{label}</span>
  );
}

function EventRow({ event, names }: { event: AuditEvent; names: Names }) {
  const [open, setOpen] = useState(false);
  const detailId = `audit-${event.id}`;
  return (
    <>
      <tr data-event={event.event} class="compact">
        <td>
          <button type="button" class="link" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
            <span aria-hidden="true">{open ? '▾' : '▸'}</span>
            <span class="visually-hidden">{open ? 'Hide' : 'Show'} details of </span>
            <span class="mono">{event.event}</span>
          </button>
        </td>
        <td class="small">
          <Time iso={event.occurred_at} />
        </td>
        <td>
          <span class={`badge badge-${event.severity}`}>{event.severity}</span>
        </td>
        <td class="small" data-testid="actor">
          {actorText(event, names)}
        </td>
        <td class="small">
          <Target event={event} />
        </td>
      </tr>
      {open ? (
        <tr id={detailId} class="detail">
          <td colSpan={5}>
            <dl class="facts">
              <dt>Actor</dt>
              <dd class="mono">
                {event.actor.type} {event.actor.id}
              </dd>
              <dt>Target</dt>
              <dd class="mono">{event.target ? `${event.target.type} ${event.target.id ?? ''}` : '—'}</dd>
              <dt>Client IP</dt>
              <dd class="mono">{event.client_ip ?? '—'}</dd>
              <dt>Sequence</dt>
              <dd>{event.seq}</dd>
              <dt>Details</dt>
              <dd>
                <pre class="mono wrap">{JSON.stringify(event.details, null, 2)}</pre>
              </dd>
            </dl>
          </td>
        </tr>
      ) : null}
    </>
  );
}

type FieldErrors = Partial<Record<(typeof FILTERS)[number], string>>;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // A leading = + - @ would be read as a formula by a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function eventsToCsv(events: AuditEvent[], names: Names): string {
  const head = ['occurred_at', 'event', 'severity', 'actor_type', 'actor_id', 'actor', 'target_type', 'target_id', 'client_ip', 'tenant_id', 'details'];
  const rows = events.map((e) => [
    e.occurred_at,
    e.event,
    e.severity,
    e.actor.type,
    e.actor.id,
    names.get(e.actor.id) ?? '',
    e.target?.type ?? '',
    e.target?.id ?? '',
    e.client_ip ?? '',
    e.tenant_id ?? '',
    e.details,
  ]);
  return `${[head, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
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
  const names = useActorNames(tenantId, admin);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);

  const verifyButton = admin ? (
    <button type="button" class="secondary" onClick={chain.reload}>
      Verify {tenantId ? 'chain' : 'all chains'} again
    </button>
  ) : null;

  function apply(event: Submit) {
    event.preventDefault();
    const form = event.currentTarget;
    const found: FieldErrors = {};
    const eventNames = formValue(form, 'event').replace(/\s+/g, '');
    if (eventNames && !/^[a-z0-9_.,]+$/.test(eventNames)) found.event = 'Event names are lower-case words joined by dots, e.g. credential.revoked.';
    let actor = formValue(form, 'actor');
    if (actor.includes('@')) {
      const match = [...names.entries()].find(([, name]) => name.toLowerCase() === actor.toLowerCase());
      if (match) actor = match[0];
      else found.actor = `No admin has the email ${actor}.`;
    } else if (actor && !UUID.test(actor)) found.actor = 'Give an admin’s email or an actor ID (a UUID).';
    const target = formValue(form, 'target');
    if (target.length > 100) found.target = 'A target ID is at most 100 characters.';
    const since = localToIso(formValue(form, 'since'));
    const until = localToIso(formValue(form, 'until'));
    if (formValue(form, 'since') && !since) found.since = 'Not a date and time.';
    if (formValue(form, 'until') && !until) found.until = 'Not a date and time.';
    if (since && until && since > until) found.until = '“Until” is before “From”: nothing can match.';
    setErrors(found);
    if (Object.keys(found).length) {
      const first = Object.keys(found)[0];
      form.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      return;
    }
    navigate(base, {
      event: eventNames || undefined,
      actor: actor || undefined,
      target: target || undefined,
      severity: formValue(form, 'severity') || undefined,
      since,
      until,
    });
  }

  async function exportAs(format: 'csv' | 'json') {
    setExportError(null);
    setExporting(format);
    try {
      const all: AuditEvent[] = [];
      for (let next = 1; all.length < EXPORT_LIMIT; next += 1) {
        const batch = await api.audit.list(tenantId, { ...(filter as AuditFilter), page: next, per_page: EXPORT_PAGE });
        all.push(...batch.data);
        if (batch.data.length < EXPORT_PAGE || all.length >= batch.pagination.total) break;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `relaykey-audit-${tenantId ?? 'platform'}-${stamp}.${format}`;
      if (format === 'csv') download(name, 'text/csv', eventsToCsv(all, names));
      else download(name, 'application/json', `${JSON.stringify({ filter, events: all }, null, 2)}\n`);
    } catch (failure) {
      setExportError(failure);
    } finally {
      setExporting(null);
    }
  }

  const field = (name: (typeof FILTERS)[number]) => ({
    name,
    'aria-invalid': errors[name] ? ('true' as const) : undefined,
    'aria-describedby': errors[name] ? `filter-error-${name}` : undefined,
  });
  const fieldError = (name: (typeof FILTERS)[number]) =>
    errors[name] ? (
      <span class="field-error" id={`filter-error-${name}`} data-testid={`filter-error-${name}`}>
        {errors[name]}
      </span>
    ) : null;

  const rows = events.data?.data ?? [];
  const unknownEvents = (filter.event ?? '')
    .split(',')
    .filter(Boolean)
    .filter((name) => !KNOWN_EVENTS.includes(name));

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
      <form class="filters" onSubmit={apply} aria-label="Filter audit events" key={key} noValidate>
        <div class="field">
          <label>
            Event
            <input {...field('event')} list="known-events" defaultValue={filter.event ?? ''} placeholder="credential.created,credential.revoked" />
          </label>
          {fieldError('event')}
        </div>
        <datalist id="known-events">
          {KNOWN_EVENTS.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <div class="field">
          <label>
            Actor <span class="muted">(admin email or ID)</span>
            <input {...field('actor')} defaultValue={names.get(filter.actor ?? '') ?? filter.actor ?? ''} />
          </label>
          {fieldError('actor')}
        </div>
        <div class="field">
          <label>
            Target ID
            <input {...field('target')} defaultValue={filter.target ?? ''} />
          </label>
          {fieldError('target')}
        </div>
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
        <div class="field">
          <label>
            From
            <input {...field('since')} type="datetime-local" defaultValue={isoToLocal(filter.since ?? null)} />
          </label>
          {fieldError('since')}
        </div>
        <div class="field">
          <label>
            Until
            <input {...field('until')} type="datetime-local" defaultValue={isoToLocal(filter.until ?? null)} />
          </label>
          {fieldError('until')}
        </div>
        <div class="row end">
          <button type="submit">Apply filters</button>
          <button type="button" class="secondary" onClick={() => navigate(base)}>
            Clear
          </button>
        </div>
      </form>
      <div class="row">
        <button type="button" class="secondary" disabled={exporting !== null} aria-busy={exporting === 'csv' || undefined} onClick={() => exportAs('csv')}>
          {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
        </button>
        <button type="button" class="secondary" disabled={exporting !== null} aria-busy={exporting === 'json' || undefined} onClick={() => exportAs('json')}>
          {exporting === 'json' ? 'Exporting…' : 'Export JSON'}
        </button>
        <span class="muted small">The filtered range, every page (up to {EXPORT_LIMIT.toLocaleString('en')} events).</span>
      </div>
      <Notice error={exportError} what="The export" />
      <Notice error={events.error} what="The audit trail" />
      <Loading loading={events.loading && !events.data} />
      {events.data ? (
        <>
          {rows.length === 0 && Object.keys(filter).length ? (
            <p class="notice notice-warning" data-testid="no-match">
              No event matches these filters.
              {unknownEvents.length
                ? ` relaykey writes no event named ${unknownEvents.map((n) => `“${n}”`).join(', ')}${
                    suggestEvent(unknownEvents[0] ?? '') ? `: did you mean “${suggestEvent(unknownEvents[0] ?? '')}”?` : '.'
                  }`
                : ''}
            </p>
          ) : null}
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard */}
          <section class="table-wrap" tabIndex={0} aria-label="Audit events">
            <table class="audit">
              <caption class="visually-hidden">Audit events</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Time</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((event) => (
                  <EventRow key={event.id} event={event} names={names} />
                ))}
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={5} class="muted">
                      Nothing here yet.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </section>
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
