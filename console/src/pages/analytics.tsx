// Verification analytics of one tenant or one credential: attempts by outcome, valid and refused
// per minute, and the most refused client addresses with why. Re-read every 30 s while the tab
// is shown (paused while it is hidden), and at once when it is shown again.
import { useState } from 'preact/hooks';
import { api, type VerificationAnalytics, type VerificationOutcome } from '../api';
import { Loading, Notice, Table, TenantHeading, useAutoRefresh, useLoad } from '../ui';
import { VerificationChart } from './overview';

export const ANALYTICS_REFRESH_MS = 30_000;

const RANGES = [
  [15, 'Last 15 minutes'],
  [60, 'Last hour'],
  [360, 'Last 6 hours'],
  [1440, 'Last 24 hours'],
] as const;

/** In the order an operator reads them: what worked, then why the rest was refused. */
const OUTCOMES: readonly [VerificationOutcome, string, string][] = [
  ['valid', 'Valid', 'signed in'],
  ['throttled', 'Throttled', 'too many failures from this client or for this user name'],
  ['scope', 'Scope', 'the key may not be used for this protocol'],
  ['expired', 'Expired', 'past its expiry date'],
  ['held', 'Held', 'on hold'],
  ['network', 'Network', 'from an address outside its allowed networks'],
  ['unknown_key', 'Unknown', 'no such key (a wrong or mistyped password)'],
  ['wrong_user', 'Wrong user name', 'a real key given with another user name'],
  ['revoked', 'Revoked', 'the key was revoked'],
];

const LABEL = Object.fromEntries(OUTCOMES.map(([outcome, label]) => [outcome, label])) as Record<VerificationOutcome, string>;

function Breakdown({ outcomes }: { outcomes: VerificationAnalytics['outcomes'] }) {
  const total = Object.values(outcomes).reduce((sum, n) => sum + n, 0);
  return (
    <Table caption="Attempts by outcome" head={['Outcome', 'Attempts', 'Share', 'Meaning']}>
      {OUTCOMES.map(([outcome, label, meaning]) => {
        const count = outcomes[outcome] ?? 0;
        const share = total === 0 ? 0 : Math.round((count / total) * 1000) / 10;
        return (
          <tr key={outcome} data-outcome={outcome}>
            <th scope="row">{label}</th>
            <td data-testid="outcome-count">{count}</td>
            <td>
              <svg class="share" viewBox="0 0 100 8" width="80" height="8" aria-hidden="true">
                <rect class="share-track" x="0" y="0" width="100" height="8" />
                <rect class={outcome === 'valid' ? 'bar-allowed' : 'bar-denied'} x="0" y="0" width={share} height="8" />
              </svg>{' '}
              {share}%
            </td>
            <td class="small muted">{meaning}</td>
          </tr>
        );
      })}
    </Table>
  );
}

/** The analytics block; `credentialId` narrows it to one credential. */
export function VerificationAnalyticsView({ tenantId, credentialId, headingLevel = 3 }: { tenantId: string; credentialId?: string; headingLevel?: 2 | 3 }) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const [minutes, setMinutes] = useState(60);
  const [updated, setUpdated] = useState<Date | null>(null);
  const stats = useLoad(async () => {
    const result = await api.stats.analytics(tenantId, minutes, credentialId);
    setUpdated(new Date());
    return result;
  }, [tenantId, credentialId, minutes]);
  useAutoRefresh(stats.reload, ANALYTICS_REFRESH_MS);
  const data = stats.data;
  return (
    <div class="stack" data-testid="analytics">
      <div class="row">
        <label>
          Range
          <select value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
            {RANGES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" onClick={stats.reload}>
          Refresh
        </button>
        <span class="small muted" data-testid="analytics-updated">
          {updated ? `Updated ${updated.toLocaleTimeString()}; refreshes every 30 s` : ''}
        </span>
      </div>
      <Notice error={stats.error} what="Verification analytics" />
      <Loading loading={stats.loading && !data} />
      {data ? (
        <>
          <Breakdown outcomes={data.outcomes} />
          <VerificationChart series={data.series.map((p) => ({ minute: p.minute, allowed: p.valid, denied: p.refused }))} />
          <Heading>Most refused clients</Heading>
          <Table caption="Most refused clients" head={['Client IP', 'Refused', 'Why']} empty={data.top_refused_clients.length === 0}>
            {data.top_refused_clients.map((client) => (
              <tr key={client.ip} data-client={client.ip}>
                <td class="mono">{client.ip}</td>
                <td>{client.refused}</td>
                <td data-testid="reasons">{client.reasons.map((r) => `${LABEL[r.outcome] ?? r.outcome} ×${r.count}`).join(', ')}</td>
              </tr>
            ))}
          </Table>
        </>
      ) : null}
    </div>
  );
}

export function AnalyticsPage({ tenantId }: { tenantId: string }) {
  return (
    <section>
      <TenantHeading tenantId={tenantId} title="Verifications" />
      <p>
        How mail clients fared signing in with this tenant's keys, and wrong passwords given for addresses in its domains. Counted on every node; kept for 24
        hours.
      </p>
      <VerificationAnalyticsView tenantId={tenantId} headingLevel={2} />
    </section>
  );
}
