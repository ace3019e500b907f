// Redis killed under load, against a private PostgreSQL and redis-server this test starts: the
// verify p99 stays under 50 ms, a node starts while Redis is down, a revocation still reaches
// the other node within 1 s (PostgreSQL NOTIFY), and a node joins Redis again when it returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, percentile, seed, sleep, startNode, verifyOnce } from './helpers.js';
import { createPostgres, type PostgresInstance, postgresAvailable } from './postgres-instance.js';
import { createRedis, type RedisInstance, redisAvailable } from './redis-instance.js';

describe.skipIf(!postgresAvailable || !redisAvailable)('Redis faults', () => {
  let pgi: PostgresInstance;
  let redis: RedisInstance;
  let env: NodeJS.ProcessEnv;
  const nodes: ServerProcess[] = [];
  let tenant: SeededTenant;
  const secrets: { id: string; secret: string }[] = [];

  beforeAll(async () => {
    pgi = await createPostgres();
    redis = await createRedis();
    env = nodeEnv(pgi.url, { RELAYKEY_REDIS_URL: redis.url });
    nodes.push(await startNode(env), await startNode(env));
    tenant = await seed(nodes[0] as ServerProcess, env);
    for (let i = 0; i < 8; i++) {
      const created = await createCredential((nodes[0] as ServerProcess).url, tenant, `k${i}`);
      secrets.push({ id: created.body.id, secret: created.body.secret });
    }
  }, 240_000);

  afterAll(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await redis?.kill();
    await pgi?.destroy();
  });

  async function load(url: string, ms: number): Promise<{ latencies: number[]; steady: number[]; statuses: Map<number, number> }> {
    const latencies: number[] = [];
    const steady: number[] = [];
    const from = Date.now() + 500;
    const statuses = new Map<number, number>();
    const until = Date.now() + ms;
    const worker = async (offset: number) => {
      let i = offset;
      while (Date.now() < until) {
        // Every fourth attempt is a failure, which the throttle must count.
        const secret = i % 4 === 3 ? `${(secrets[0] as { secret: string }).secret.slice(0, -2)}zz` : (secrets[i % secrets.length] as { secret: string }).secret;
        const started = performance.now();
        const response = await verifyOnce(url, tenant, secret);
        latencies.push(performance.now() - started);
        if (Date.now() > from) steady.push(performance.now() - started);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        i++;
      }
    };
    await Promise.all([worker(0), worker(1)]);
    return { latencies, steady, statuses };
  }

  it('verify p99 stays under 50 ms with Redis killed; a node starts without it; revocations still travel', async () => {
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    const warm = await load(a.url, 4_000);
    const before = percentile(warm.latencies, 99);

    await redis.kill();
    const killed = Date.now();
    const during = await load(a.url, 4_000);
    const p99 = percentile(during.latencies, 99);
    console.log(
      `Redis killed: verify p99 ${p99.toFixed(1)} ms over ${during.latencies.length} requests (before: ${before.toFixed(1)} ms; from 0.5 s after the kill: ${percentile(during.steady, 99).toFixed(1)} ms); statuses`,
      Object.fromEntries(during.statuses),
    );
    // Under 50 ms. On a machine so loaded that the same load before the kill already had a p99
    // near or above that, no worse than three times the p99 before it; and never a wait on Redis
    // (before: ~10 s per verification while ioredis queued and reconnected).
    expect(p99).toBeLessThan(Math.max(50, 3 * before));
    expect(Math.max(...during.latencies)).toBeLessThan(2_000);
    expect([...during.statuses.keys()].sort()).toEqual([200, 401]);

    // A node starts while Redis is down.
    const startedAt = Date.now();
    const c = await startNode(env);
    nodes.push(c);
    console.log(`a node started without Redis in ${Date.now() - startedAt} ms (Redis down for ${startedAt - killed} ms)`);
    const ready = await call(c, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.redis.status).toBe('down');
    expect((await verifyOnce(c.url, tenant, (secrets[1] as { secret: string }).secret)).status).toBe(200);

    // Revocation on A reaches B (which has it cached) within 1 s, without Redis.
    const target = secrets[2] as { id: string; secret: string };
    expect((await verifyOnce(b.url, tenant, target.secret)).status).toBe(200);
    const revoked = await call(a, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials/${target.id}/revoke`, {
      token: tenant.bearer,
      body: { reason: 'test' },
    });
    expect(revoked.status).toBe(200);
    const revokedAt = Date.now();
    while ((await verifyOnce(b.url, tenant, target.secret)).status !== 401) {
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
      await sleep(10);
    }
    console.log(`revocation reached node B in ${Date.now() - revokedAt} ms with Redis down`);

    // Redis returns: the nodes join it again (C had never seen it).
    await redis.start();
    const back = Date.now();
    for (const node of [a, c]) {
      while ((await call(node, 'GET', '/readyz')).body.redis.status !== 'ready') {
        expect(Date.now() - back).toBeLessThan(10_000);
        await sleep(100);
      }
    }
    const metrics = await fetch(`${c.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^relaykey_redis_up 1$/m);
    const metricsA = await fetch(`${a.url}/metrics`).then((r) => r.text());
    expect(Number(/^relaykey_redis_throttle_fallbacks_total (\d+)/m.exec(metricsA)?.[1])).toBeGreaterThan(0);
    expect(a.output.join('')).toContain('Redis unreachable');
    for (const node of nodes) expect(node.child.exitCode).toBeNull();
  }, 180_000);
});
