// Renders a benchmark run as a Markdown page and a hand-written SVG bar chart.
import type { RunResults, ScenarioResult } from './results.js';

const SERVER_LABEL: Record<ScenarioResult['server'], string> = {
  baseline: 'baseline (node:http + Map)',
  'baseline-batched': 'baseline, answers batched (reference)',
  'relaykey-sqlite': 'relaykey, SQLite',
  'relaykey-postgres': 'relaykey, PostgreSQL',
  'peer-better-auth': 'peer: better-auth api-key',
  'policy-baseline': 'baseline policy listener (answers DUNNO)',
};
const SCENARIO_LABEL: Record<ScenarioResult['name'], string> = {
  verify_hot: 'verify, hot cache',
  verify_hot_paced: 'verify, hot, half load',
  verify_cold: 'verify, cold cache',
  auth_http_hot: 'nginx auth_http, hot',
  policy: 'Postfix policy decisions',
  verify_hot_with_policy: 'verify, hot, policy load alongside',
  verify_hot_with_dunno_load: 'verify, hot, same policy load to a bare listener',
};
const COLOR: Record<ScenarioResult['server'], string> = {
  baseline: '#8c8c8c',
  'baseline-batched': '#c4c4c4',
  'relaykey-sqlite': '#2f6fdf',
  'relaykey-postgres': '#1f9e89',
  'peer-better-auth': '#e0743a',
  'policy-baseline': '#8c8c8c',
};

const fmt = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? '–' : value.toFixed(digits));
const thousands = (value: number | null | undefined) => (value === null || value === undefined ? '–' : value.toLocaleString('en-US'));
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderMarkdown(results: RunResults): string {
  const lines: string[] = [];
  lines.push(`# relaykey benchmark — ${results.date}${results.quick ? ' (quick)' : ''}`, '');
  lines.push(
    `${results.machine.cpus} × ${results.machine.cpu_model}, ${results.machine.memory_gb} GB, Node ${results.machine.node}; load generator ${results.tool}, ` +
      `one thread, ${results.connections} connections, ${results.duration_s} s per run after a warm-up. Load average ${results.machine.load_average_start.join(' / ')} at the start, ` +
      `${results.machine.load_average_end.join(' / ')} at the end. Absolute numbers swing between machines and runs: compare within one run.`,
    '',
  );
  lines.push('![requests per second](latest.svg)', '');
  lines.push('## Targets', '', '| target | goal | measured | at keys | |', '|---|---|---|---|---|');
  for (const t of results.targets) {
    lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${thousands(t.at_keys)} | ${t.pass === null ? 'n/a' : t.pass ? 'pass' : '**MISS**'} |`);
  }
  lines.push('', `## Ratios (same run, ${thousands(results.ratios.at_keys as number)} keys)`, '', '| ratio | value |', '|---|---|');
  for (const [name, value] of Object.entries(results.ratios)) {
    if (name === 'at_keys') continue;
    if (typeof value === 'number' || value === null) lines.push(`| ${name} | ${value === null ? '–' : `${value}x`} |`);
  }
  const sizes = [...new Set(results.scenarios.map((s) => s.keys))].sort((a, b) => a - b);
  for (const keys of sizes) {
    lines.push('', `## ${thousands(keys)} stored keys`, '');
    lines.push(
      '| server | scenario | req/s | p50 ms | p99 ms | max ms | errors | server CPU µs/req | RSS MB (peak) | start-up ms |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const s of results.scenarios.filter((x) => x.keys === keys)) {
      if (s.skipped || s.error) {
        lines.push(
          `| ${SERVER_LABEL[s.server]} | ${SCENARIO_LABEL[s.name]} | ${s.skipped ? `skipped: ${s.skipped}` : `failed: ${s.error}`} | | | | | | ${s.startup_ms ?? '–'} |`,
        );
        continue;
      }
      lines.push(
        `| ${SERVER_LABEL[s.server]} | ${SCENARIO_LABEL[s.name]}${s.offered_per_s ? ` (${thousands(s.offered_per_s)} req/s offered)` : ''} | ${thousands(s.requests_per_s)} | ${fmt(s.p50_ms)} | ${fmt(s.p99_ms)} | ${fmt(s.max_ms)} | ${s.errors ?? '–'} | ${s.cpu_us_per_request ?? '–'} | ${s.rss_mb ?? '–'} (${s.peak_rss_mb ?? '–'}) | ${s.startup_ms ?? '–'} |`,
      );
    }
  }
  lines.push('', '## Bulk import', '', '| into | keys | import s | whole process s | keys/s |', '|---|---:|---:|---:|---:|');
  for (const i of results.imports) {
    lines.push(`| ${i.target} | ${thousands(i.keys)} | ${fmt(i.elapsed_ms / 1000, 1)} | ${fmt(i.process_ms / 1000, 1)} | ${thousands(i.per_second)} |`);
  }
  lines.push(
    '',
    '## How it is measured',
    '',
    '- Each server runs as its own child process on 127.0.0.1 and is loaded from another process (wrk with `bench/load.lua`, or autocannon).',
    '- **baseline**: `bench/baseline-server.ts`, bare `node:http`, HMAC-SHA256 of the key and a `Map` lookup, the same request and answer shape.',
    '- **baseline, answers batched**: the same server started with `--batch-answers`, writing its answers once per event-loop turn as relaykey\u2019s fast path does (`src/surfaces/answer-batch.ts`); a reference for how much that technique alone is worth, judged by no target.',
    '- **hot**: the same 10 keys over and over; **cold**: every request a key never asked for before in that server process (the run stops before a key would repeat).',
    '- **half load**: the hot keys again, each connection waiting a random 0-2x mean think time after every answer, so that together they offer about half the rate relaykey (SQLite) reached saturated; the baseline gets the same pacing. Saturated, 50 closed-loop connections queue: the mean latency is 50 / (requests/s) by Little\u2019s law, so no server under 25,000 requests/s can show a p99 under 2 ms there.',
    '- **peer**: better-auth 1.7.5 with `@better-auth/api-key` (defaults, per-key rate limit off) on SQLite with the same number of keys, behind a bare `node:http` front.',
    '- **server CPU µs/req**: user + system CPU of the server process during the run over the requests it answered (`/proc/<pid>/stat`); the `cpu_*` ratios compare these and are the steadier figure when the machine is shared.',
    '- **start-up**: from spawning the process to its first successful `GET /healthz`; **RSS**: `/proc/<pid>/status` after the run (peak = VmHWM).',
    '- Keys are created by `relaykey credentials import` (timed above); the peer\u2019s rows are clones of a key the plugin created itself.',
    '- **Postfix policy decisions** (first size only): `bench/policy-load.ts` keeps the same number of connections busy with RCPT-time policy requests (10 key identities, an allowed sender, a new `instance` each, so every request is a counted message) against relaykey\u2019s `RELAYKEY_POLICY_PORT` and against `bench/policy-baseline-server.ts`, a bare `node:net` listener answering DUNNO; **errors** there are answers other than DUNNO. **verify, hot, policy load alongside**: verify_hot again while 10 connections offer `--policy-rate` (500) decisions/s to the same process (the rate achieved is shown as offered); **same policy load to a bare listener**: the control, the same generator and rate sent to a bare DUNNO listener in another process, so that `verify_hot_with_policy_vs_with_dunno_load` shows what the policy work costs relaykey beyond the machine being busier.',
  );
  if (results.notes.length) {
    lines.push('', '## Notes', '');
    for (const note of results.notes) lines.push(`- ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Horizontal bars of requests/s, one group per size and scenario. */
export function renderSvg(results: RunResults): string {
  const measured = results.scenarios.filter((s) => s.requests_per_s !== undefined && !s.error && !s.skipped);
  const groups: Array<{ label: string; bars: ScenarioResult[] }> = [];
  const sizes = [...new Set(measured.map((s) => s.keys))].sort((a, b) => a - b);
  for (const keys of sizes) {
    for (const name of ['verify_hot', 'verify_cold', 'auth_http_hot', 'policy'] as const) {
      const bars = measured.filter((s) => s.keys === keys && s.name === name);
      if (bars.length) groups.push({ label: `${SCENARIO_LABEL[name]} · ${thousands(keys)} keys`, bars });
    }
  }
  const max = Math.max(1, ...measured.map((s) => s.requests_per_s as number));
  const width = 900;
  const left = 230;
  const barArea = width - left - 230;
  const barHeight = 16;
  const gap = 4;
  let y = 70;
  const parts: string[] = [];
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(group.label)}</text>`);
    y += 20;
    for (const bar of group.bars) {
      const value = bar.requests_per_s as number;
      const w = Math.max(1, Math.round((value / max) * barArea));
      parts.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${escapeXml(SERVER_LABEL[bar.server])}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w}" height="${barHeight}" fill="${COLOR[bar.server]}"/>`);
      parts.push(`<text x="${left + w + 6}" y="${y + 12}">${thousands(value)} req/s · p99 ${fmt(bar.p99_ms)} ms</text>`);
      y += barHeight + gap;
    }
    y += 12;
  }
  const height = y + 10;
  const title = `relaykey benchmark, requests per second (${results.date.slice(0, 10)}${results.quick ? ', quick' : ''})`;
  const subtitle = `${results.tool}, ${results.connections} connections, ${results.machine.cpus} cores, load average ${results.machine.load_average_start.join(' / ')}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="44" fill="#555">${escapeXml(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
