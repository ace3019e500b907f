// The benchmark's judging and rendering: ratios, targets and the report, from a fixed run.
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderSvg } from '../../bench/report.js';
import { evaluate, type RunResults, type ScenarioResult } from '../../bench/results.js';

function scenario(
  server: ScenarioResult['server'],
  name: ScenarioResult['name'],
  keys: number,
  rps: number,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult {
  return {
    server,
    name,
    keys,
    cache: name === 'verify_cold' ? 'cold' : 'hot',
    requests: rps * 10,
    seconds: 10,
    requests_per_s: rps,
    p50_ms: 0.5,
    p90_ms: 0.9,
    p99_ms: 1.5,
    max_ms: 9,
    errors: 0,
    cpu_us_per_request: Math.round(1e6 / rps),
    startup_ms: 400,
    rss_mb: 120,
    peak_rss_mb: 130,
    ...extra,
  };
}

function run(keys: number): RunResults {
  return {
    date: '2026-01-02T03:04:05.000Z',
    quick: false,
    machine: { cpus: 2, cpu_model: 'test', memory_gb: 24, node: 'v20', load_average_start: [0.1, 0.1, 0.1], load_average_end: [1, 1, 1] },
    tool: 'wrk 4.1.0',
    connections: 50,
    duration_s: 10,
    imports: [{ target: 'relaykey-sqlite', keys, elapsed_ms: 45_000, process_ms: 46_000, per_second: Math.round(keys / 45) }],
    scenarios: [
      scenario('baseline', 'verify_hot', keys, 20_000),
      scenario('baseline', 'verify_cold', keys, 18_000),
      scenario('baseline-batched', 'verify_hot', keys, 25_000),
      scenario('relaykey-sqlite', 'verify_hot', keys, 17_000),
      scenario('relaykey-sqlite', 'verify_cold', keys, 8_000, { peak_rss_mb: 260 }),
      // Saturated, 50 connections queue; paced at half load they do not.
      scenario('baseline', 'verify_hot_paced', keys, 8_400, { offered_per_s: 8_475, p99_ms: 0.9 }),
      scenario('relaykey-sqlite', 'verify_hot_paced', keys, 8_300, { offered_per_s: 8_475, p99_ms: 1.8 }),
      { server: 'relaykey-sqlite', name: 'auth_http_hot', keys, cache: 'hot', startup_ms: 500, skipped: 'GET /auth/nginx answers 404' },
      scenario('peer-better-auth', 'verify_hot', keys, 1_000),
      scenario('peer-better-auth', 'verify_cold', keys, 900),
      // A smaller size must not leak into the ratios of the largest.
      scenario('baseline', 'verify_hot', 10_000, 1),
    ],
    notes: [],
    ratios: {},
    targets: [],
  };
}

describe('benchmark evaluation', () => {
  it('computes the ratios at the largest size and per size', () => {
    const { ratios } = evaluate(run(1_000_000));
    expect(ratios).toMatchObject({
      at_keys: 1_000_000,
      verify_hot_vs_baseline: 0.85,
      verify_cold_vs_baseline: 0.44,
      auth_http_vs_baseline: null,
      verify_vs_peer: 17,
      verify_cold_vs_peer_cold: 8.89,
      cpu_verify_hot_vs_baseline: 0.85,
      verify_hot_vs_batched_baseline: 0.68,
    });
    expect(Object.keys(ratios.by_size as object)).toEqual(['10000', '1000000']);
  });

  it('judges every target and says which were missed', () => {
    const targets = Object.fromEntries(evaluate(run(1_000_000)).targets.map((t) => [t.name, t]));
    expect(targets['hot verify vs baseline']?.pass).toBe(true);
    expect(targets['cold verify (SQLite) vs baseline']?.pass).toBe(false);
    expect(targets['verify vs peer']?.pass).toBe(true);
    expect(targets['server peak RSS']).toMatchObject({ pass: false, measured: '260 MB' });
    expect(targets['start-up (spawn to first /healthz)']).toMatchObject({ pass: true, measured: '0.4 s' });
    expect(targets['bulk import (SQLite)']).toMatchObject({ pass: true, measured: '45 s' });
    expect(targets['hot verify (SQLite) p99 at 50 connections, saturated']).toMatchObject({ pass: true, measured: '1.5 ms' });
    expect(targets['hot verify (SQLite) p99 at 50 connections, half load (8,475 req/s offered)']).toMatchObject({ pass: true, measured: '1.8 ms' });
  });

  it('judges the two latency targets apart, and reports a run without the paced one as not measured', () => {
    const results = run(1_000_000);
    const hot = results.scenarios.find((s) => s.server === 'relaykey-sqlite' && s.name === 'verify_hot') as ScenarioResult;
    hot.p99_ms = 7.3;
    const withPaced = Object.fromEntries(evaluate(results).targets.map((t) => [t.name, t]));
    expect(withPaced['hot verify (SQLite) p99 at 50 connections, saturated']).toMatchObject({ pass: false, measured: '7.3 ms' });
    expect(withPaced['hot verify (SQLite) p99 at 50 connections, half load (8,475 req/s offered)']?.pass).toBe(true);
    results.scenarios = results.scenarios.filter((s) => s.name !== 'verify_hot_paced');
    const withoutPaced = evaluate(results).targets.find((t) => t.name.startsWith('hot verify (SQLite) p99 at 50 connections, half load'));
    expect(withoutPaced).toMatchObject({ pass: null, measured: 'not measured' });
  });

  it('projects a mid-size import to 1M keys but not a tiny one', () => {
    const mid = evaluate({
      ...run(100_000),
      imports: [{ target: 'relaykey-sqlite', keys: 100_000, elapsed_ms: 7_000, process_ms: 8_000, per_second: 14_285 }],
    });
    expect(mid.targets.find((t) => t.name === 'bulk import (SQLite)')).toMatchObject({ pass: false, measured: '7 s (70 s projected for 1M)' });
    const tiny = evaluate({ ...run(10_000), imports: [{ target: 'relaykey-sqlite', keys: 10_000, elapsed_ms: 900, process_ms: 2_000, per_second: 11_111 }] });
    expect(tiny.targets.find((t) => t.name === 'bulk import (SQLite)')?.pass).toBeNull();
  });

  it('renders the Markdown table and an SVG chart, with skipped scenarios explained', () => {
    const results = run(1_000_000);
    Object.assign(results, evaluate(results));
    const markdown = renderMarkdown(results);
    expect(markdown).toContain('| hot verify vs baseline | >= 0.8x | 0.85x | 1,000,000 | pass |');
    expect(markdown).toContain('**MISS**');
    expect(markdown).toContain('skipped: GET /auth/nginx answers 404');
    expect(markdown).toContain('| relaykey, SQLite | verify, hot cache | 17,000 |');
    expect(markdown).toContain('| baseline, answers batched (reference) | verify, hot cache | 25,000 |');
    expect(markdown).toContain('| verify_hot_vs_batched_baseline | 0.68x |');
    expect(markdown).toContain('| relaykey, SQLite | verify, hot, half load (8,475 req/s offered) | 8,300 |');
    const svg = renderSvg(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('17,000 req/s');
    expect(svg).toContain('baseline, answers batched (reference)');
    expect(svg.match(/<rect /g)?.length).toBe(1 + 8);
  });
});
