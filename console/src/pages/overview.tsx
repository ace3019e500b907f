// Overview: verifications per minute (allowed vs denied), the top denied clients, tenants and the audit chains.
import { api, type VerificationStats } from '../api';
import { ChainStatus } from './audit';
import { Loading, Notice, Table, useLoad } from '../ui';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 40, right: 8, top: 10, bottom: 24 };

function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Stacked bars per minute as SVG: attributes and CSS classes only, so the strict CSP holds. */
export function VerificationChart({ series }: { series: VerificationStats['series'] }) {
  const max = Math.max(1, ...series.map((p) => p.allowed + p.denied));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, series.length);
  const bar = Math.max(1, slot * 0.8);
  const y = (value: number) => (value / max) * plotHeight;
  const allowed = series.reduce((sum, p) => sum + p.allowed, 0);
  const denied = series.reduce((sum, p) => sum + p.denied, 0);
  const first = series[0];
  const last = series[series.length - 1];
  return (
    // Focusable: on a phone the chart scrolls sideways, and keyboard users must be able to scroll it (axe scrollable-region-focusable).
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
    <figure class="chart" tabIndex={0}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="chart-title chart-summary" data-testid="chart">
        <title id="chart-title">Verifications per minute, allowed and denied</title>
        <line class="axis" x1={PAD.left} y1={PAD.top + plotHeight} x2={WIDTH - PAD.right} y2={PAD.top + plotHeight} />
        <line class="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotHeight} />
        <text class="tick" x={PAD.left - 6} y={PAD.top + 10} text-anchor="end">
          {max}
        </text>
        <text class="tick" x={PAD.left - 6} y={PAD.top + plotHeight} text-anchor="end">
          0
        </text>
        {series.map((point, index) => {
          const x = PAD.left + index * slot + (slot - bar) / 2;
          const allowedHeight = y(point.allowed);
          const deniedHeight = y(point.denied);
          const base = PAD.top + plotHeight;
          return (
            <g key={point.minute}>
              <title>{`${clock(point.minute)}: ${point.allowed} allowed, ${point.denied} denied`}</title>
              <rect class="bar-allowed" x={x} y={base - allowedHeight} width={bar} height={allowedHeight} />
              <rect class="bar-denied" x={x} y={base - allowedHeight - deniedHeight} width={bar} height={deniedHeight} />
            </g>
          );
        })}
        {first ? (
          <text class="tick" x={PAD.left} y={HEIGHT - 6}>
            {clock(first.minute)}
          </text>
        ) : null}
        {last ? (
          <text class="tick" x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">
            {clock(last.minute)}
          </text>
        ) : null}
      </svg>
      <figcaption id="chart-summary">
        <span class="legend legend-allowed">Allowed: {allowed}</span> <span class="legend legend-denied">Denied: {denied}</span>{' '}
        <span class="muted">over the last {series.length} minutes</span>
      </figcaption>
    </figure>
  );
}

export function OverviewPage() {
  const stats = useLoad(() => api.stats.verifications(60), []);
  const tenants = useLoad(() => api.tenants.list({ per_page: 1 }), []);
  const chains = useLoad(() => api.audit.verify(), []);
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Overview</h1>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            stats.reload();
            chains.reload();
          }}
        >
          Refresh
        </button>
      </div>
      <div class="grid2">
        <div class="card">
          <h2>Tenants</h2>
          <Notice error={tenants.error} what="The tenant count" />
          <p class="big" data-testid="tenant-count">
            {tenants.data ? tenants.data.pagination.total : '…'}
          </p>
          <a href="#/tenants">All tenants</a>
        </div>
        <div class="card">
          <h2>Audit chains</h2>
          <Notice error={chains.error} what="Chain verification" />
          <Loading loading={chains.loading && !chains.data} />
          {chains.data ? <ChainStatus check={chains.data} /> : null}
        </div>
      </div>
      <h2>Verifications per minute</h2>
      <Notice error={stats.error} what="Verification statistics" />
      <Loading loading={stats.loading && !stats.data} />
      {stats.data ? (
        <>
          <VerificationChart series={stats.data.series} />
          <h2>Top denied clients</h2>
          <Table caption="Top denied clients" head={['Client IP', 'Denied']} empty={stats.data.top_denied_clients.length === 0}>
            {stats.data.top_denied_clients.map((client) => (
              <tr key={client.ip}>
                <td class="mono">{client.ip}</td>
                <td>{client.denied}</td>
              </tr>
            ))}
          </Table>
        </>
      ) : null}
    </section>
  );
}
