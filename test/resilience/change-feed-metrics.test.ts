// Change-feed health in /metrics (issue 26): per channel whether this node listens now
// (PostgreSQL LISTEN/NOTIFY, Redis pub/sub), whether it is down to polling (only the verify cache
// TTL brings other nodes' changes), and the age of the last message. The test kills the feed's
// sources itself: its own redis-server, and the PostgreSQL backend of the listener connection of
// its own PostgreSQL. Never the shared ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, seed, sleep, startNode } from './helpers.js';
import { createPostgres, type PostgresInstance, postgresAvailable } from './postgres-instance.js';
import { createRedis, type RedisInstance, redisAvailable } from './redis-instance.js';

/** One sample of the Prometheus text format, or null when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const prefix = wanted ? `${name}{${wanted}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? null : Number(line.slice(prefix.length));
}

async function scrape(node: ServerProcess): Promise<string> {
  const response = await fetch(`${node.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** Scrapes every `everyMs` until `predicate` holds; returns that scrape (fails after `withinMs`). */
async function until(node: ServerProcess, predicate: (text: string) => boolean, withinMs: number, what: string, everyMs = 50): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const text = await scrape(node);
    if (predicate(text)) return text;
    if (Date.now() > deadline)
      throw new Error(
        `not within ${withinMs} ms: ${what}\n${text
          .split('\n')
          .filter((l) => l.includes('change_feed'))
          .join('\n')}`,
      );
    await sleep(everyMs);
  }
}

async function revokeOne(node: ServerProcess, tenant: SeededTenant, name: string): Promise<void> {
  const created = await createCredential(node.url, tenant, name);
  expect(created.status).toBe(201);
  const revoked = await call(node, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials/${created.body.id}/revoke`, {
    token: tenant.bearer,
    body: { reason: 'test' },
  });
  expect(revoked.status).toBe(200);
}

describe.skipIf(!postgresAvailable || !redisAvailable)('change feed state in /metrics', () => {
  let pgi: PostgresInstance;
  let redis: RedisInstance;
  const nodes: ServerProcess[] = [];

  beforeAll(async () => {
    pgi = await createPostgres();
    redis = await createRedis();
  }, 120_000);

  afterAll(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await redis?.kill();
    await pgi?.destroy();
  });

  it('PostgreSQL + Redis: both channels listen; each goes to 0 when its source dies and back to 1 when it returns; last event age follows a revocation', async () => {
    const env = nodeEnv(pgi.url, { RELAYKEY_REDIS_URL: redis.url });
    const node = await startNode(env);
    nodes.push(node);
    const tenant = await seed(node, env);

    let text = await until(
      node,
      (t) => sample(t, 'relaykey_change_feed_up', { channel: 'postgres' }) === 1 && sample(t, 'relaykey_change_feed_up', { channel: 'redis' }) === 1,
      10_000,
      'both channels listening',
    );
    expect(sample(text, 'relaykey_change_feed_polling')).toBe(0);

    // A revocation is announced on both channels; the node hears its own message on each.
    await revokeOne(node, tenant, 'feed-1');
    text = await until(
      node,
      (t) =>
        sample(t, 'relaykey_change_feed_last_event_age_seconds', { channel: 'postgres' }) !== null &&
        sample(t, 'relaykey_change_feed_last_event_age_seconds', { channel: 'redis' }) !== null,
      5_000,
      'an event on both channels',
    );
    expect(sample(text, 'relaykey_change_feed_last_event_age_seconds', { channel: 'postgres' })).toBeLessThan(5);
    expect(sample(text, 'relaykey_change_feed_last_event_age_seconds', { channel: 'redis' })).toBeLessThan(5);

    // Redis killed: its channel goes down, PostgreSQL still carries changes (not polling).
    await redis.kill();
    text = await until(node, (t) => sample(t, 'relaykey_change_feed_up', { channel: 'redis' }) === 0, 5_000, 'redis channel down');
    expect(sample(text, 'relaykey_change_feed_up', { channel: 'postgres' })).toBe(1);
    expect(sample(text, 'relaykey_change_feed_polling')).toBe(0);

    // Every client backend terminated (the listener's among them; it also sends this node's
    // NOTIFYs, so its last query is not always its LISTEN): down until the listener reconnects (1 s), and
    // with Redis also down the node is polling meanwhile.
    await pgi.query(`select pg_terminate_backend(pid) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`);
    text = await until(node, (t) => sample(t, 'relaykey_change_feed_up', { channel: 'postgres' }) === 0, 3_000, 'postgres channel down', 20);
    expect(sample(text, 'relaykey_change_feed_polling')).toBe(1);
    await until(node, (t) => sample(t, 'relaykey_change_feed_up', { channel: 'postgres' }) === 1, 10_000, 'postgres channel back');

    // Redis back: listening again.
    await redis.start();
    await until(node, (t) => sample(t, 'relaykey_change_feed_up', { channel: 'redis' }) === 1, 15_000, 'redis channel back');
    await revokeOne(node, tenant, 'feed-2');
    text = await until(
      node,
      (t) => (sample(t, 'relaykey_change_feed_last_event_age_seconds', { channel: 'redis' }) ?? 99) < 5,
      5_000,
      'a fresh event on redis',
    );
    expect(node.child.exitCode).toBeNull();
  }, 180_000);

  it('SQLite with Redis: Redis killed leaves no channel, so the node reports polling', async () => {
    const env = nodeEnv('sqlite:./relaykey.db', { RELAYKEY_REDIS_URL: redis.url });
    env.RELAYKEY_DATABASE_URL = `sqlite:${env.RELAYKEY_DATA_DIR}/relaykey.db`;
    const node = await startNode(env);
    nodes.push(node);
    let text = await until(node, (t) => sample(t, 'relaykey_change_feed_up', { channel: 'redis' }) === 1, 10_000, 'redis channel listening');
    expect(sample(text, 'relaykey_change_feed_up', { channel: 'postgres' })).toBeNull();
    expect(sample(text, 'relaykey_change_feed_polling')).toBe(0);
    await redis.kill();
    text = await until(node, (t) => sample(t, 'relaykey_change_feed_polling') === 1, 5_000, 'polling');
    expect(sample(text, 'relaykey_change_feed_up', { channel: 'redis' })).toBe(0);
  }, 120_000);
});
