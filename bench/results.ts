// The shape of a benchmark run and the ratios and targets computed from it (pure: the
// harness measures, this file judges, report.ts renders).

export interface LoadResult {
  requests: number;
  seconds: number;
  requests_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Non-2xx answers plus socket errors and timeouts: a valid run has none. */
  errors: number;
}

export interface ScenarioResult extends Partial<LoadResult> {
  /** verify_hot_paced: the hot keys at a paced load of about half relaykey's saturated hot rate (`offered_per_s`). */
  /**
   * policy: Postfix policy decisions (RCPT, allowed sender, counted); verify_hot_with_policy:
   * verify_hot while a paced policy load runs on the same process; verify_hot_with_dunno_load: the
   * control, verify_hot while the same paced policy load (same generator, same rate) goes to a
   * bare DUNNO listener in another process: what the machine being busier costs by itself.
   */
  name: 'verify_hot' | 'verify_hot_paced' | 'verify_cold' | 'auth_http_hot' | 'policy' | 'verify_hot_with_policy' | 'verify_hot_with_dunno_load';
  /** baseline-batched: the baseline writing its answers once per event-loop turn, as relaykey's fast path does (a reference, judged by no target). */
  /** policy-baseline: a bare node:net listener answering DUNNO to every policy request. */
  server: 'baseline' | 'baseline-batched' | 'relaykey-sqlite' | 'relaykey-postgres' | 'peer-better-auth' | 'policy-baseline';
  keys: number;
  cache: 'hot' | 'cold';
  /** Paced runs: the mean rate the connections offered (connections x 1000 / mean think time in ms). */
  offered_per_s?: number;
  /** Time from spawning the process to its first successful GET /healthz. */
  startup_ms?: number;
  /** Server CPU time (user + system) per answered request, in microseconds. */
  cpu_us_per_request?: number | null;
  /** The server's main thread (the event loop) alone, CPU µs per answered request. */
  main_thread_cpu_us_per_request?: number | null;
  /** The server's event-loop delay during the measured load (its /metrics, prom-client's monitorEventLoopDelay), ms. */
  event_loop_delay_p99_ms?: number | null;
  idle_rss_mb?: number | null;
  rss_mb?: number | null;
  peak_rss_mb?: number | null;
  skipped?: string;
  error?: string;
}

export interface ImportResult {
  target: string;
  keys: number;
  /** As the import reports it (generation, hashing, inserts, commits). */
  elapsed_ms: number;
  /** The whole CLI process, start-up and migrations included. */
  process_ms: number;
  per_second: number | null;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  at_keys: number | null;
  pass: boolean | null;
}

export interface RunResults {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpu_model: string; memory_gb: number; node: string; load_average_start: number[]; load_average_end: number[] };
  /** The build measured (older result files have none). */
  build?: { commit: string; src_uncommitted_changes: boolean; source_sha256: string | null };
  tool: string;
  connections: number;
  duration_s: number;
  imports: ImportResult[];
  scenarios: ScenarioResult[];
  notes: string[];
  ratios: Record<string, number | null | Record<string, Record<string, number | null>>>;
  targets: TargetCheck[];
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function find(results: RunResults, server: ScenarioResult['server'], name: ScenarioResult['name'], keys: number): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.server === server && s.name === name && s.keys === keys && s.requests_per_s !== undefined && !s.error);
}

function ratio(a: ScenarioResult | undefined, b: ScenarioResult | undefined): number | null {
  if (!a?.requests_per_s || !b?.requests_per_s) return null;
  return round(a.requests_per_s / b.requests_per_s);
}

/** How many times more server CPU per request `a` needs than `b`: the quiet-machine view. */
function cpuRatio(a: ScenarioResult | undefined, b: ScenarioResult | undefined): number | null {
  if (!a?.cpu_us_per_request || !b?.cpu_us_per_request) return null;
  return round(b.cpu_us_per_request / a.cpu_us_per_request);
}

function ratiosAt(results: RunResults, keys: number): Record<string, number | null> {
  const baselineHot = find(results, 'baseline', 'verify_hot', keys);
  const baselineCold = find(results, 'baseline', 'verify_cold', keys);
  return {
    // Requests/s ratios (what the targets are about); cpu_* ratios: baseline CPU per request
    // over relaykey's, i.e. the requests/s ratio a CPU-bound server would reach on a quiet machine.
    cpu_verify_hot_vs_baseline: cpuRatio(find(results, 'relaykey-sqlite', 'verify_hot', keys), baselineHot),
    cpu_verify_cold_vs_baseline: cpuRatio(find(results, 'relaykey-sqlite', 'verify_cold', keys), baselineCold),
    cpu_verify_vs_peer: cpuRatio(find(results, 'relaykey-sqlite', 'verify_hot', keys), find(results, 'peer-better-auth', 'verify_hot', keys)),
    verify_hot_vs_baseline: ratio(find(results, 'relaykey-sqlite', 'verify_hot', keys), baselineHot),
    // Cold against the baseline under the same key rotation (every request a new key).
    verify_cold_vs_baseline: ratio(find(results, 'relaykey-sqlite', 'verify_cold', keys), baselineCold),
    auth_http_vs_baseline: ratio(find(results, 'relaykey-sqlite', 'auth_http_hot', keys), baselineHot),
    verify_vs_peer: ratio(find(results, 'relaykey-sqlite', 'verify_hot', keys), find(results, 'peer-better-auth', 'verify_hot', keys)),
    verify_cold_vs_peer_cold: ratio(find(results, 'relaykey-sqlite', 'verify_cold', keys), find(results, 'peer-better-auth', 'verify_cold', keys)),
    // Against the baseline with the same answer batching as relaykey's fast path: how much of
    // the distance to the bare baseline is that one technique rather than less work.
    verify_hot_vs_batched_baseline: ratio(find(results, 'relaykey-sqlite', 'verify_hot', keys), find(results, 'baseline-batched', 'verify_hot', keys)),
    verify_hot_postgres_vs_baseline: ratio(find(results, 'relaykey-postgres', 'verify_hot', keys), baselineHot),
    verify_cold_postgres_vs_baseline: ratio(find(results, 'relaykey-postgres', 'verify_cold', keys), baselineCold),
    // Sending policy (issue 25): decisions/s against a bare DUNNO listener, and verify
    // throughput with a policy load on the same process against without.
    policy_vs_dunno_baseline: ratio(find(results, 'relaykey-sqlite', 'policy', keys), find(results, 'policy-baseline', 'policy', keys)),
    verify_hot_with_policy_vs_verify_hot: ratio(
      find(results, 'relaykey-sqlite', 'verify_hot_with_policy', keys),
      find(results, 'relaykey-sqlite', 'verify_hot', keys),
    ),
    // The fair comparison: the same policy load on the machine, on relaykey or on a bare listener.
    verify_hot_with_policy_vs_with_dunno_load: ratio(
      find(results, 'relaykey-sqlite', 'verify_hot_with_policy', keys),
      find(results, 'relaykey-sqlite', 'verify_hot_with_dunno_load', keys),
    ),
  };
}

/** Below 1M keys the import is judged by its rate, projected linearly to 1M (optimistic: inserts slow as indexes grow). */
function importCheck(measured: ImportResult | undefined, keys: number): TargetCheck {
  if (!measured) return { name: 'bulk import (SQLite)', target: '<= 60 s for 1M keys', measured: 'not measured', at_keys: keys, pass: null };
  if (measured.keys < 100_000) {
    // Fixed costs (prepare, first page allocations) dominate a small import: no projection.
    return {
      name: 'bulk import (SQLite)',
      target: '<= 60 s for 1M keys',
      measured: `${round(measured.elapsed_ms / 1000, 1)} s (too few keys to project)`,
      at_keys: measured.keys,
      pass: null,
    };
  }
  const seconds = measured.elapsed_ms / 1000;
  const projected = (seconds * 1_000_000) / measured.keys;
  const text = measured.keys >= 1_000_000 ? `${round(seconds, 1)} s` : `${round(seconds, 1)} s (${round(projected, 0)} s projected for 1M)`;
  return { name: 'bulk import (SQLite)', target: '<= 60 s for 1M keys', measured: text, at_keys: measured.keys, pass: projected <= 60 };
}

/** Ratios at the largest size measured (plus every size under by_size) and the issue's targets. */
export function evaluate(results: RunResults): { ratios: RunResults['ratios']; targets: TargetCheck[] } {
  const sizes = [...new Set(results.scenarios.map((s) => s.keys))].sort((a, b) => a - b);
  const largest = sizes.at(-1) ?? 0;
  const bySize: Record<string, Record<string, number | null>> = {};
  for (const keys of sizes) bySize[String(keys)] = ratiosAt(results, keys);
  const top = ratiosAt(results, largest);
  const ratios: RunResults['ratios'] = { at_keys: largest, ...top, by_size: bySize };

  const check = (name: string, target: string, measured: number | null | undefined, pass: (v: number) => boolean, unit = ''): TargetCheck => ({
    name,
    target,
    measured: measured === null || measured === undefined ? 'not measured' : `${round(measured)}${unit}`,
    at_keys: largest,
    pass: measured === null || measured === undefined ? null : pass(measured),
  });
  const relaykey = results.scenarios.filter((s) => s.keys === largest && s.server === 'relaykey-sqlite' && !s.error && !s.skipped);
  const relaykeyAt = (name: ScenarioResult['name']) => find(results, 'relaykey-sqlite', name, largest);
  const paced = relaykeyAt('verify_hot_paced');
  const rss = relaykey.map((s) => s.peak_rss_mb).filter((v): v is number => typeof v === 'number');
  const startup = relaykey.map((s) => s.startup_ms).filter((v): v is number => typeof v === 'number');
  const sqliteImport = results.imports.find((i) => i.target === 'relaykey-sqlite' && i.keys === largest);
  const targets = [
    check('hot verify vs baseline', '>= 0.8x', top.verify_hot_vs_baseline, (v) => v >= 0.8, 'x'),
    check(`hot verify (SQLite) p99 at ${results.connections} connections, saturated`, '<= 2 ms', relaykeyAt('verify_hot')?.p99_ms, (v) => v <= 2, ' ms'),
    check(
      `hot verify (SQLite) p99 at ${results.connections} connections, half load${paced?.offered_per_s ? ` (${paced.offered_per_s.toLocaleString('en-US')} req/s offered)` : ''}`,
      '<= 2 ms',
      paced?.p99_ms,
      (v) => v <= 2,
      ' ms',
    ),
    check('cold verify (SQLite) vs baseline', '>= 0.5x at 1M keys', top.verify_cold_vs_baseline, (v) => v >= 0.5, 'x'),
    check('verify vs peer', '>= 5x', top.verify_vs_peer, (v) => v >= 5, 'x'),
    check('server peak RSS', '<= 250 MB at 1M keys', rss.length ? Math.max(...rss) : null, (v) => v <= 250, ' MB'),
    check('start-up (spawn to first /healthz)', '<= 1 s at 1M keys', startup.length ? Math.max(...startup) / 1000 : null, (v) => v <= 1, ' s'),
    importCheck(sqliteImport, largest),
  ];
  return { ratios, targets };
}
