// Measures the costs behind docs/scale-out.md's capacity model on this machine: CPU per hot and
// per cold verification on a node, PostgreSQL CPU, statements and connections per cold lookup.
// A private PostgreSQL (test/resilience/postgres-instance.ts) and relaykey nodes as processes.
// Usage: npx tsx bench/scale-out-capacity.ts [seconds=10] [connections=20]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createCredential, nodeEnv, seed, startNode } from '../test/resilience/helpers.js';
import { createPostgres } from '../test/resilience/postgres-instance.js';

const seconds = Number(process.argv[2] ?? '10');
const connections = Number(process.argv[3] ?? '20');
const TICK = 100; // clock ticks per second (Linux USER_HZ)

function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
  } catch {
    return 0; // a backend that exited
  }
}

/** Every process of the PostgreSQL cluster (postmaster and its children). */
function postgresPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of procPids()) {
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === postmaster) pids.push(entry);
    } catch {
      // gone
    }
  }
  return pids;
}

function procPids(): number[] {
  return readdirSync('/proc')
    .filter((name: string) => /^\d+$/.test(name))
    .map(Number);
}

async function main(): Promise<void> {
  const pgi = await createPostgres();
  const results: Record<string, unknown> = {};
  try {
    const keys: string[] = [];
    const base = nodeEnv(pgi.url, { RELAYKEY_LOG_LEVEL: 'warn' });
    for (const [label, ttl] of [
      ['hot', '30000'],
      ['cold', '0'],
    ] as const) {
      const env = { ...base, RELAYKEY_VERIFY_CACHE_TTL_MS: ttl };
      const node = await startNode(env);
      const tenant = await seed(node, env);
      if (keys.length === 0) {
        for (let i = 0; i < 500; i++) keys.push((await createCredential(node.url, tenant, `c${i}`)).body.secret);
      }
      let i = 0;
      const body = () => JSON.stringify({ username: 'u', password: keys[i++ % keys.length], protocol: 'api:read' });
      // Warm-up: hot keys cached, JIT warm.
      await autocannon({
        url: `${node.url}/api/v1/verify`,
        connections,
        duration: 2,
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.verifier}`, 'content-type': 'application/json' },
        requests: [{ setupRequest: (r) => ({ ...r, body: body() }) }],
      });
      const pid = node.child.pid as number;
      const pgPidsBefore = postgresPids(pgi.dataDir);
      const nodeBefore = cpuMs(pid);
      const pgBefore = pgPidsBefore.reduce((sum, p) => sum + cpuMs(p), 0);
      const [statsBefore] = await pgi.query<{ xacts: string }>('select sum(xact_commit + xact_rollback)::text as xacts from pg_stat_database');
      let maxConnections = 0;
      const sampler = setInterval(async () => {
        const [row] = await pgi
          .query<{ n: string }>("select count(*)::text as n from pg_stat_activity where backend_type = 'client backend' and datname = 'postgres'")
          .catch(() => [{ n: '0' }]);
        maxConnections = Math.max(maxConnections, Number(row?.n) - 1);
      }, 250);
      const run = await autocannon({
        url: `${node.url}/api/v1/verify`,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.verifier}`, 'content-type': 'application/json' },
        requests: [{ setupRequest: (r) => ({ ...r, body: body() }) }],
      });
      clearInterval(sampler);
      const nodeCpu = cpuMs(pid) - nodeBefore;
      const pgPids = postgresPids(pgi.dataDir);
      const pgCpu = pgPids.reduce((sum, p) => sum + cpuMs(p), 0) - pgBefore;
      const [statsAfter] = await pgi.query<{ xacts: string }>('select sum(xact_commit + xact_rollback)::text as xacts from pg_stat_database');
      const requests = run.requests.total;
      results[label] = {
        requests,
        req_per_s: Math.round(run.requests.average),
        p99_ms: run.latency.p99,
        non_2xx: run.non2xx,
        node_cpu_us_per_request: Math.round((nodeCpu * 1000) / requests),
        postgres_cpu_us_per_request: Math.round((pgCpu * 1000) / requests),
        postgres_statements_per_request: Number(((Number(statsAfter?.xacts) - Number(statsBefore?.xacts) || 0) / requests).toFixed(3)),
        postgres_connections_max: maxConnections,
      };
      node.child.kill('SIGTERM');
      await node.exited;
    }
  } finally {
    await pgi.destroy();
  }
  console.log(JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
