// The benchmark harness (`npm run bench`, `npm run bench -- --quick`): in one run on this
// machine it bulk-imports keys (timed), starts each server on loopback as a child process,
// loads it from a separate process (wrk when installed, else autocannon) and writes
// bench/results/<date>.json, latest.json, latest.md and latest.svg.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { evaluate, type LoadResult, type RunResults, type ScenarioResult } from './results.js';
import { renderMarkdown, renderSvg } from './report.js';
// @ts-expect-error: a plain JavaScript module shared with scripts/bundle.mjs
import { bundleIsCurrent, sourceHash } from '../scripts/source-hash.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const HOT_KEYS = 10;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    tool: { type: 'string' },
    'skip-postgres': { type: 'boolean', default: false },
    'skip-peer': { type: 'boolean', default: false },
    // The sending-policy scenarios (issue 25) run at the first size only: decisions do not read the key table.
    'skip-policy': { type: 'boolean', default: false },
    // Total policy decisions/s offered during verify_hot_with_policy.
    'policy-rate': { type: 'string', default: '500' },
    // Only the policy scenarios and the relaykey verify_hot they are compared with.
    'only-policy': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    // Writes a V8 CPU profile of every relaykey server process here (node --cpu-prof), one per scenario.
    'cpu-prof-dir': { type: 'string' },
    'results-dir': { type: 'string', default: join(ROOT, 'bench/results') },
    // A public address here makes relaykey resolve its country (geoip) for each new session.
    'client-ip': { type: 'string' },
  },
});

const quick = args.quick ?? false;
const sizes = (args.sizes ?? (quick ? '10000' : '10000,100000,1000000')).split(',').map((s) => Number(s.trim()));
const durationS = Number(args.duration ?? (quick ? '4' : '15'));
const warmupS = quick ? 1 : 3;
const connections = Number(args.connections);
const postgresBase = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(130));
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---------- tools ----------

function detectTool(): { name: 'wrk' | 'autocannon'; version: string } {
  if (args.tool !== 'autocannon') {
    const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
    const text = `${wrk.stdout ?? ''}${wrk.stderr ?? ''}`;
    const version = /^wrk (\S+)/.exec(text);
    if (!wrk.error && version) return { name: 'wrk', version: `wrk ${version[1]}` };
    if (args.tool === 'wrk') throw new Error('--tool wrk: wrk is not installed (apt-get install wrk)');
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string };
  return { name: 'autocannon', version: `autocannon ${pkg.version}` };
}

/** relaykey runs from the bundle dist/relaykey.mjs as `npm start` does; rebuilt when it does not match src/. */
const RELAYKEY_MAIN = join(ROOT, 'dist/relaykey.mjs');

/** The build a run measured: the commit, whether src/ had uncommitted changes, and the sources' fingerprint. */
function buildIdentity(): RunResults['build'] {
  const git = (gitArgs: string[]) => spawnSync('git', gitArgs, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    src_uncommitted_changes: git(['status', '--porcelain', '--', 'src']) !== '',
    // null when the bundle measured is not the one built from these sources (--no-build).
    source_sha256: bundleIsCurrent(ROOT) ? sourceHash(ROOT) : null,
  };
}

function ensureBuild(): void {
  if (args['no-build'] && existsSync(RELAYKEY_MAIN)) return;
  // By content, not by time: a bundle copied into place is newer than sources it was not built from.
  if (bundleIsCurrent(ROOT)) return;
  log('building dist/ (tsc -p tsconfig.build.json, then scripts/bundle.mjs)');
  const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('build failed');
  const bundled = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (bundled.status !== 0) throw new Error('bundle failed');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function run(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, commandArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolveRun({ stdout, stderr, code: code ?? 1 });
    });
  });
}

async function cliJson<T>(env: NodeJS.ProcessEnv, cliArgs: string[]): Promise<T> {
  const result = await run(process.execPath, [RELAYKEY_MAIN, ...cliArgs, '--json'], env);
  if (result.code !== 0) throw new Error(`relaykey ${cliArgs.slice(0, 2).join(' ')} failed: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as T;
}

// ---------- data sets ----------

interface RelaykeyData {
  dialect: 'sqlite' | 'postgres';
  env: NodeJS.ProcessEnv;
  keysFile: string;
  token: string;
  tenantId: string;
  cleanup(): Promise<void>;
}

async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: postgresBase, connectionTimeoutMillis: 3000 });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const url = new URL(postgresBase);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresBase });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

async function prepareRelaykey(
  dialect: 'sqlite' | 'postgres',
  keys: number,
  workDir: string,
  masterKey: string,
): Promise<{ data: RelaykeyData; importResult: RunResults['imports'][number] }> {
  const dataDir = join(workDir, `relaykey-${dialect}-${keys}`);
  mkdirSync(dataDir, { recursive: true });
  let databaseUrl = `sqlite:${join(dataDir, 'relaykey.db')}`;
  let drop = async () => {};
  if (dialect === 'postgres') {
    const created = await createPostgresSchema();
    databaseUrl = created.url;
    drop = created.drop;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RELAYKEY_DATABASE_URL: databaseUrl,
    RELAYKEY_DATA_DIR: dataDir,
    RELAYKEY_MASTER_KEY: masterKey,
    RELAYKEY_LOG_LEVEL: 'warn',
    RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110',
  };
  const tenant = await cliJson<{ id: string }>(env, ['tenant', 'create', '--name', 'bench', '--domain', 'bench.test']);
  const keysFile = join(dataDir, 'keys.txt');
  const started = performance.now();
  const imported = await cliJson<{ imported: number; elapsed_ms: number }>(env, [
    'credentials',
    'import',
    '--tenant',
    tenant.id,
    '--count',
    String(keys),
    '--scopes',
    'smtp,imap',
    '--out',
    keysFile,
    '--with-ids',
  ]);
  const wallMs = performance.now() - started;
  const token = await cliJson<{ token: string }>(env, ['token', 'create', '--kind', 'verifier', '--name', 'bench']);
  log(`${dialect}: imported ${imported.imported} keys in ${(imported.elapsed_ms / 1000).toFixed(1)} s (process ${(wallMs / 1000).toFixed(1)} s)`);
  return {
    data: { dialect, env, keysFile, token: token.token, tenantId: tenant.id, cleanup: drop },
    importResult: {
      target: `relaykey-${dialect}`,
      keys: imported.imported,
      elapsed_ms: Math.round(imported.elapsed_ms),
      process_ms: Math.round(wallMs),
      per_second: Math.round(imported.imported / (imported.elapsed_ms / 1000)),
    },
  };
}

async function preparePeer(keys: number, workDir: string): Promise<{ db: string; keysFile: string; setupMs: number }> {
  const dir = join(workDir, `peer-${keys}`);
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'peer.db');
  const keysFile = join(dir, 'keys.txt');
  const started = performance.now();
  const result = await run(process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'bench/peer-server.ts'),
    'setup',
    '--db',
    db,
    '--count',
    String(keys),
    '--out',
    keysFile,
  ]);
  if (result.code !== 0) throw new Error(`peer setup failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return { db, keysFile, setupMs: performance.now() - started };
}

// ---------- servers and load ----------

interface RunningChild {
  child: ChildProcess;
  url: string;
  startupMs: number;
  stderr: () => string;
}

async function startChild(commandArgs: string[], env: NodeJS.ProcessEnv, port: number): Promise<RunningChild> {
  const started = performance.now();
  const child = spawn(process.execPath, commandArgs, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return { child, url, startupMs: performance.now() - started, stderr: () => stderr };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  throw new Error('server did not answer /healthz within 120 s');
}

async function stopChild(running: RunningChild): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a process has used so far (Linux /proc, 100 ticks a second);
 * `mainThread`: its main thread alone (the event loop), without workers, GC and libuv threads.
 */
function cpuSecondsOf(pid: number, mainThread = false): number | null {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

interface LoadSpec {
  mode: 'verify' | 'auth_http' | 'peer' | 'policy';
  keysFile: string;
  token: string;
  hot: number;
  offset: number;
  limit: number;
  durationS: number;
  /** Paced load: mean think time per connection in ms (0: saturated, each connection sends as soon as it is answered). */
  delayMs: number;
}

interface PolicyLoad {
  port: number;
  identitiesFile: string;
  sender: string;
  /** Total decisions/s offered; 0: saturated. */
  rate: number;
}

async function runPolicyLoad(policy: PolicyLoad, durationSeconds: number, policyConnections = connections): Promise<LoadResult> {
  const result = await run(process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'bench/policy-load.ts'),
    String(policy.port),
    String(policyConnections),
    String(durationSeconds),
    policy.identitiesFile,
    policy.sender,
    String(policy.rate),
  ]);
  const line = result.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`policy load produced no result: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`);
  const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>;
  const seconds = Math.max((raw.duration_us as number) / 1e6, 0.01);
  return {
    requests: raw.requests as number,
    seconds: Math.round(seconds * 100) / 100,
    requests_per_s: Math.round((raw.requests as number) / seconds),
    p50_ms: (raw.p50_us as number) / 1000,
    p90_ms: (raw.p90_us as number) / 1000,
    p99_ms: (raw.p99_us as number) / 1000,
    max_ms: (raw.max_us as number) / 1000,
    errors: (raw.errors_status as number) + (raw.errors_socket as number),
  };
}

async function runLoad(tool: 'wrk' | 'autocannon', url: string, spec: LoadSpec): Promise<LoadResult> {
  const env = {
    ...process.env,
    BENCH_KEYS: spec.keysFile,
    BENCH_MODE: spec.mode,
    BENCH_TOKEN: spec.token,
    BENCH_HOT: String(spec.hot),
    BENCH_OFFSET: String(spec.offset),
    BENCH_LIMIT: String(spec.limit),
    BENCH_DELAY_MS: String(spec.delayMs),
    BENCH_CLIENT_IP: args['client-ip'] ?? '',
  };
  const result =
    tool === 'wrk'
      ? await run('wrk', ['-t1', `-c${connections}`, `-d${spec.durationS}s`, '--timeout', '10s', '-s', join(ROOT, 'bench/load.lua'), url], env)
      : await run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/autocannon-load.ts'), url, String(connections), String(spec.durationS)], env);
  const line = result.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`${tool} produced no result: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`);
  const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as {
    requests: number;
    duration_us: number;
    errors_status: number;
    errors_socket: number;
    p50_us: number;
    p90_us: number;
    p99_us: number;
    max_us: number;
  };
  // A cold run that reached its key limit stopped early: wrk's own duration still counts
  // the full -d, so take the script's measurement (autocannon reports the real duration).
  const elapsed = /^BENCH_ELAPSED (\S+) (\d+)$/m.exec(result.stdout);
  const seconds = elapsed ? Math.max(Number(elapsed[1]), 0.01) : raw.duration_us / 1e6;
  return {
    requests: elapsed ? Number(elapsed[2]) : raw.requests,
    seconds: Math.round(seconds * 100) / 100,
    requests_per_s: Math.round(raw.requests / seconds),
    p50_ms: raw.p50_us / 1000,
    p90_ms: raw.p90_us / 1000,
    p99_ms: raw.p99_us / 1000,
    max_ms: raw.max_us / 1000,
    errors: raw.errors_status + raw.errors_socket,
  };
}

type Preflight = { ok: true } | { ok: false; skip: boolean; reason: string };

/** One real request before the load: a scenario that does not answer correctly is not measured. */
async function preflight(url: string, mode: LoadSpec['mode'], keysFile: string, token: string): Promise<Preflight> {
  const first = readFileSync(keysFile, 'utf8').split('\n', 1)[0] as string;
  const [username, key] = first.split('\t') as [string, string];
  if (mode === 'verify') {
    const response = await fetch(`${url}/api/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username, password: key, protocol: 'smtp' }),
    });
    const body = (await response.json().catch(() => null)) as { valid?: boolean } | null;
    return response.status === 200 && body?.valid === true ? { ok: true } : { ok: false, skip: false, reason: `verify answered ${response.status}` };
  }
  if (mode === 'auth_http') {
    const response = await fetch(`${url}/auth/nginx`, {
      headers: {
        authorization: `Bearer ${token}`,
        'auth-method': 'plain',
        'auth-user': username,
        'auth-pass': key,
        'auth-protocol': 'smtp',
        'auth-login-attempt': '1',
        'client-ip': '127.0.0.1',
        'client-host': 'localhost',
      },
    });
    await response.arrayBuffer();
    if (response.status === 404)
      return { ok: false, skip: true, reason: 'GET /auth/nginx answers 404: the nginx auth_http endpoint (issue 6) is not in this build yet' };
    const status = response.headers.get('auth-status');
    return status === 'OK' ? { ok: true } : { ok: false, skip: false, reason: `auth_http answered ${response.status} Auth-Status: ${status}` };
  }
  const response = await fetch(`${url}/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
  const body = (await response.json().catch(() => null)) as { valid?: boolean } | null;
  return response.status === 200 && body?.valid === true ? { ok: true } : { ok: false, skip: false, reason: `peer verify answered ${response.status}` };
}

/** One policy request through the real listener: the scenario is measured only if it answers DUNNO. */
async function policyPreflight(policy: PolicyLoad): Promise<Preflight> {
  const result = await runPolicyLoad({ ...policy, rate: 0 }, 0.2, 1);
  if (result.requests === 0) return { ok: false, skip: false, reason: 'the policy listener did not answer' };
  return result.errors === 0
    ? { ok: true }
    : { ok: false, skip: false, reason: `the policy listener answered ${result.errors} of ${result.requests} requests with something else than DUNNO` };
}

interface ScenarioDefinition {
  name: ScenarioResult['name'];
  server: ScenarioResult['server'];
  keys: number;
  command: string[];
  env: NodeJS.ProcessEnv;
  mode: LoadSpec['mode'];
  keysFile: string;
  token: string;
  cold: boolean;
  /** Set for the paced runs (verify_hot_paced): mean think time per connection in ms. */
  delayMs?: number;
  /**
   * Sending policy: `{policyPort}` in the command and RELAYKEY_POLICY_PORT get a free port. Mode
   * `policy` loads it; otherwise `backgroundRate` decisions/s run on it during the measured load,
   * or, with `backgroundElsewhere`, on a bare DUNNO listener started beside it (the control).
   */
  policy?: { identitiesFile: string; sender: string; backgroundRate?: number; backgroundElsewhere?: boolean };
}

/** The server's event-loop delay p99 (ms) from its /metrics; each scrape starts a new window (prom-client resets it). */
async function eventLoopDelayP99(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = /^relaykey_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return match ? Math.round(Number(match[1]) * 1e5) / 100 : null;
  } catch {
    return null;
  }
}

async function runScenario(tool: 'wrk' | 'autocannon', definition: ScenarioDefinition): Promise<ScenarioResult> {
  const base = { name: definition.name, server: definition.server, keys: definition.keys, cache: definition.cold ? 'cold' : 'hot' } as const;
  const port = await freePort();
  const policyPort = definition.policy ? await freePort() : 0;
  const env = {
    ...definition.env,
    RELAYKEY_PORT: String(port),
    PORT: String(port),
    ...(definition.policy ? { RELAYKEY_POLICY_PORT: String(policyPort) } : {}),
  };
  const command = definition.command.map((part) => (part === '{port}' ? String(port) : part === '{policyPort}' ? String(policyPort) : part));
  const policyLoad = definition.policy
    ? { port: policyPort, identitiesFile: definition.policy.identitiesFile, sender: definition.policy.sender, rate: 0 }
    : null;
  let running: RunningChild | null = null;
  let elsewhere: RunningChild | null = null;
  try {
    running = await startChild(command, env, port);
    if (definition.policy?.backgroundElsewhere && policyLoad) {
      // The control: the same policy load, to a bare DUNNO listener in a process of its own.
      const httpPort = await freePort();
      policyLoad.port = await freePort();
      elsewhere = await startChild(
        ['--import', 'tsx', join(ROOT, 'bench/policy-baseline-server.ts'), '--port', String(httpPort), '--policy-port', String(policyLoad.port)],
        process.env,
        httpPort,
      );
    }
    const idleMemory = memoryOf(running.child.pid as number);
    const check =
      definition.mode === 'policy' && policyLoad
        ? await policyPreflight(policyLoad)
        : await preflight(running.url, definition.mode, definition.keysFile, definition.token);
    if (!check.ok) {
      log(`${definition.server} ${definition.name} @${definition.keys}: ${check.skip ? 'SKIPPED' : 'FAILED'}: ${check.reason}`);
      return { ...base, startup_ms: Math.round(running.startupMs), ...(check.skip ? { skipped: check.reason } : { error: check.reason }) };
    }
    const spec = { mode: definition.mode, keysFile: definition.keysFile, token: definition.token };
    // Warm-up on the hot keys (JIT, connections); a cold run then starts after them, so none
    // of its keys was ever looked up, and stops before any key would come round again.
    // The background policy load starts with the warm-up: its load generator's own start-up
    // (tsx compiling) must not fall into the measured window.
    const background =
      policyLoad && definition.mode !== 'policy' && definition.policy?.backgroundRate
        ? runPolicyLoad({ ...policyLoad, rate: definition.policy.backgroundRate }, warmupS + durationS + 2, 10)
        : null;
    if (definition.mode === 'policy' && policyLoad) await runPolicyLoad(policyLoad, warmupS);
    else await runLoad(tool, running.url, { ...spec, hot: HOT_KEYS, offset: 1, limit: 0, durationS: warmupS, delayMs: 0 });
    const cpuBefore = cpuSecondsOf(running.child.pid as number);
    const mainBefore = cpuSecondsOf(running.child.pid as number, true);
    if (definition.server.startsWith('relaykey')) await eventLoopDelayP99(running.url);
    const load =
      definition.mode === 'policy' && policyLoad
        ? await runPolicyLoad(policyLoad, durationS)
        : await runLoad(tool, running.url, {
            ...spec,
            hot: definition.cold ? 0 : HOT_KEYS,
            offset: HOT_KEYS + 1,
            limit: definition.cold ? definition.keys - HOT_KEYS : 0,
            durationS,
            delayMs: definition.delayMs ?? 0,
          });
    const cpuAfter = cpuSecondsOf(running.child.pid as number);
    const mainAfter = cpuSecondsOf(running.child.pid as number, true);
    const loopDelay = definition.server.startsWith('relaykey') ? await eventLoopDelayP99(running.url) : null;
    const backgroundLoad = background ? await background : null;
    if (backgroundLoad) {
      log(
        `  (policy load on the same process meanwhile: ${backgroundLoad.requests_per_s} decisions/s, p99 ${backgroundLoad.p99_ms.toFixed(2)} ms${backgroundLoad.errors ? `, ${backgroundLoad.errors} not DUNNO` : ''})`,
      );
    }
    const memory = memoryOf(running.child.pid as number);
    const result: ScenarioResult = {
      ...base,
      ...load,
      ...(definition.delayMs ? { offered_per_s: Math.round((connections * 1000) / definition.delayMs) } : {}),
      ...(backgroundLoad ? { offered_per_s: backgroundLoad.requests_per_s } : {}),
      // Server CPU per answered request: far steadier than requests/s on a shared machine.
      cpu_us_per_request: cpuBefore !== null && cpuAfter !== null && load.requests > 0 ? Math.round(((cpuAfter - cpuBefore) * 1e6) / load.requests) : null,
      main_thread_cpu_us_per_request:
        mainBefore !== null && mainAfter !== null && load.requests > 0 ? Math.round(((mainAfter - mainBefore) * 1e6) / load.requests) : null,
      event_loop_delay_p99_ms: loopDelay,
      startup_ms: Math.round(running.startupMs),
      idle_rss_mb: idleMemory ? Math.round(idleMemory.rss) : null,
      rss_mb: memory ? Math.round(memory.rss) : null,
      peak_rss_mb: memory ? Math.round(memory.peak) : null,
    };
    log(
      `${definition.server.padEnd(16)} ${definition.name.padEnd(12)} @${definition.keys}: ${String(load.requests_per_s).padStart(6)} req/s  p50 ${load.p50_ms.toFixed(2)} ms  p99 ${load.p99_ms.toFixed(2)} ms  cpu ${result.cpu_us_per_request} µs/req (main thread ${result.main_thread_cpu_us_per_request})${loopDelay !== null ? `  loop delay p99 ${loopDelay} ms` : ''}  rss ${result.rss_mb} MB  start ${result.startup_ms} ms${load.errors ? `  ERRORS ${load.errors}` : ''}`,
    );
    return result;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`${definition.server} ${definition.name} @${definition.keys}: FAILED: ${reason}`);
    return { ...base, error: reason };
  } finally {
    if (running) await stopChild(running);
    if (elsewhere) await stopChild(elsewhere);
  }
}

// ---------- main ----------

async function main(): Promise<void> {
  const startedAt = new Date();
  const tool = detectTool();
  log(`load generator: ${tool.version}; sizes ${sizes.join(', ')}; ${durationS} s per run at ${connections} connections${quick ? ' (quick)' : ''}`);
  ensureBuild();
  const workDir = mkdtempSync(join(tmpdir(), 'relaykey-bench-'));
  const masterKey = randomBytes(32).toString('base64');
  const results: RunResults = {
    date: startedAt.toISOString(),
    quick,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      load_average_start: loadavg().map((l) => Math.round(l * 100) / 100),
      load_average_end: [],
    },
    build: buildIdentity(),
    tool: tool.version,
    connections,
    duration_s: durationS,
    imports: [],
    scenarios: [],
    notes: [],
    ratios: {},
    targets: [],
  };

  let postgresAvailable = !args['skip-postgres'];
  if (postgresAvailable) {
    try {
      const client = new pg.Client({ connectionString: postgresBase, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    } catch (error) {
      postgresAvailable = false;
      results.notes.push(`PostgreSQL scenarios skipped: cannot connect (${error instanceof Error ? error.message : String(error)})`);
    }
  } else results.notes.push('PostgreSQL scenarios skipped (--skip-postgres)');
  if (args['skip-peer']) results.notes.push('peer scenarios skipped (--skip-peer)');
  results.notes.push(
    args['client-ip']
      ? `verify requests report client IP ${args['client-ip']}`
      : 'verify requests carry no client_ip (relaykey sees 127.0.0.1, so no country lookup: the country files add ~10-20 MB RSS once a public IP is seen; try --client-ip)',
  );

  const relaykeyCommand = [...(args['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args['cpu-prof-dir'])}`] : []), RELAYKEY_MAIN, 'start'];
  try {
    for (const keys of sizes) {
      log(`--- ${keys} stored keys ---`);
      const sqlite = await prepareRelaykey('sqlite', keys, workDir, masterKey);
      results.imports.push(sqlite.importResult);
      const scenarios: ScenarioDefinition[] = [];
      const baselineCommand = [
        '--import',
        'tsx',
        join(ROOT, 'bench/baseline-server.ts'),
        '--keys',
        sqlite.data.keysFile,
        '--port',
        '{port}',
        '--token',
        sqlite.data.token,
      ];
      for (const cold of [false, true]) {
        scenarios.push({
          name: cold ? 'verify_cold' : 'verify_hot',
          server: 'baseline',
          keys,
          command: baselineCommand,
          env: process.env,
          mode: 'verify',
          keysFile: sqlite.data.keysFile,
          token: sqlite.data.token,
          cold,
        });
      }
      // A reference, judged by no target: the baseline with relaykey's answer batching.
      scenarios.push({
        name: 'verify_hot',
        server: 'baseline-batched',
        keys,
        command: [...baselineCommand, '--batch-answers'],
        env: process.env,
        mode: 'verify',
        keysFile: sqlite.data.keysFile,
        token: sqlite.data.token,
        cold: false,
      });
      const relaykeyScenarios = (data: RelaykeyData, withAuthHttp: boolean) => {
        const server = data.dialect === 'sqlite' ? ('relaykey-sqlite' as const) : ('relaykey-postgres' as const);
        const common = { server, keys, command: relaykeyCommand, env: data.env, keysFile: data.keysFile, token: data.token };
        scenarios.push({ ...common, name: 'verify_hot', mode: 'verify', cold: false });
        scenarios.push({ ...common, name: 'verify_cold', mode: 'verify', cold: true });
        if (withAuthHttp) scenarios.push({ ...common, name: 'auth_http_hot', mode: 'auth_http', cold: false });
      };
      relaykeyScenarios(sqlite.data, true);
      if (!args['skip-policy'] && keys === sizes[0]) {
        // Sending policy (issue 25): the first HOT_KEYS credentials' mail-server identities, each
        // sending as an address of the tenant's domain (allowed, and counted at RCPT).
        const identitiesFile = join(workDir, `policy-identities-${keys}.txt`);
        const ids = readFileSync(sqlite.data.keysFile, 'utf8')
          .split('\n')
          .slice(0, HOT_KEYS)
          .map((l) => l.split('\t')[0]);
        writeFileSync(identitiesFile, `${ids.map((id) => `${id}@${sqlite.data.tenantId}.relaykey.invalid`).join('\n')}\n`);
        const policy = { identitiesFile, sender: 'news@bench.test' };
        const common = { keys, mode: 'policy' as const, keysFile: sqlite.data.keysFile, token: sqlite.data.token, cold: false, policy };
        scenarios.push({
          ...common,
          name: 'policy',
          server: 'policy-baseline',
          command: ['--import', 'tsx', join(ROOT, 'bench/policy-baseline-server.ts'), '--port', '{port}', '--policy-port', '{policyPort}'],
          env: process.env,
        });
        scenarios.push({ ...common, name: 'policy', server: 'relaykey-sqlite', command: relaykeyCommand, env: sqlite.data.env });
        scenarios.push({
          ...common,
          name: 'verify_hot_with_policy',
          server: 'relaykey-sqlite',
          command: relaykeyCommand,
          env: sqlite.data.env,
          mode: 'verify',
          policy: { ...policy, backgroundRate: Number(args['policy-rate']) },
        });
        scenarios.push({
          ...common,
          name: 'verify_hot_with_dunno_load',
          server: 'relaykey-sqlite',
          command: relaykeyCommand,
          env: sqlite.data.env,
          mode: 'verify',
          policy: { ...policy, backgroundRate: Number(args['policy-rate']), backgroundElsewhere: true },
        });
      }
      let postgres: RelaykeyData | null = null;
      if (postgresAvailable) {
        const prepared = await prepareRelaykey('postgres', keys, workDir, masterKey);
        results.imports.push(prepared.importResult);
        postgres = prepared.data;
        relaykeyScenarios(postgres, false);
      }
      if (!args['skip-peer']) {
        const peer = await preparePeer(keys, workDir);
        results.imports.push({
          target: 'peer-better-auth',
          keys,
          elapsed_ms: Math.round(peer.setupMs),
          process_ms: Math.round(peer.setupMs),
          per_second: null,
        });
        for (const cold of [false, true]) {
          scenarios.push({
            name: cold ? 'verify_cold' : 'verify_hot',
            server: 'peer-better-auth',
            keys,
            command: ['--import', 'tsx', join(ROOT, 'bench/peer-server.ts'), 'serve', '--db', peer.db, '--port', '{port}'],
            env: process.env,
            mode: 'peer',
            keysFile: peer.keysFile,
            token: '',
            cold,
          });
        }
      }
      const chosen = args['only-policy']
        ? scenarios.filter(
            (x) =>
              x.name === 'policy' ||
              x.name === 'verify_hot_with_policy' ||
              x.name === 'verify_hot_with_dunno_load' ||
              (x.server === 'relaykey-sqlite' && x.name === 'verify_hot'),
          )
        : scenarios;
      for (const scenario of chosen) results.scenarios.push(await runScenario(tool.name, scenario));
      // Latency at a load the server can sustain: the same connections, paced to offer half of
      // relaykey's saturated hot rate, against relaykey and the baseline alike.
      const saturated = results.scenarios.find((s) => s.server === 'relaykey-sqlite' && s.name === 'verify_hot' && s.keys === keys && s.requests_per_s);
      if (saturated?.requests_per_s && !args['only-policy']) {
        const delayMs = Math.max(1, Math.round((connections * 1000) / (saturated.requests_per_s / 2)));
        for (const server of ['baseline', 'relaykey-sqlite'] as const) {
          const paced = scenarios.find((s) => s.server === server && s.name === 'verify_hot');
          if (paced) results.scenarios.push(await runScenario(tool.name, { ...paced, name: 'verify_hot_paced', delayMs }));
        }
      }
      await postgres?.cleanup();
      // The data of one size is not needed by the next; 1M keys take ~0.5 GB per copy.
      rmSync(join(workDir, `relaykey-sqlite-${keys}`), { recursive: true, force: true });
      rmSync(join(workDir, `peer-${keys}`), { recursive: true, force: true });
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  results.machine.load_average_end = loadavg().map((l) => Math.round(l * 100) / 100);
  const { ratios, targets } = evaluate(results);
  results.ratios = ratios;
  results.targets = targets;
  if (results.scenarios.some((s) => s.skipped)) {
    for (const s of results.scenarios.filter((x) => x.skipped)) results.notes.push(`${s.server} ${s.name} @${s.keys}: skipped: ${s.skipped}`);
  }
  if (results.machine.load_average_start[0] !== undefined && (results.machine.load_average_start[0] as number) > results.machine.cpus * 0.5) {
    results.notes.push(
      `the machine was busy when the run started (load average ${results.machine.load_average_start.join(', ')} on ${results.machine.cpus} cores): absolute numbers are low; compare ratios only`,
    );
  }

  const resultsDir = args['results-dir'] as string;
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(resultsDir, `${stamp}.json`), json);
  writeFileSync(join(resultsDir, 'latest.json'), json);
  writeFileSync(join(resultsDir, 'latest.md'), renderMarkdown(results));
  writeFileSync(join(resultsDir, 'latest.svg'), renderSvg(results));
  process.stdout.write(renderMarkdown(results));
  log(`results: ${join(resultsDir, `${stamp}.json`)}, latest.json, latest.md, latest.svg`);
}

await main();
