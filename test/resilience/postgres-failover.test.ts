// A PostgreSQL primary with a synchronous hot standby (initdb, pg_basebackup, pg_ctl promote),
// both private to this test, and two relaykey nodes with both hosts in RELAYKEY_DATABASE_URL
// and the standby in RELAYKEY_DATABASE_REPLICA_URLS. Cold verify lookups are served by the
// standby only within the lag bound, a revocation is never read stale, and after the primary
// crashes and the standby is promoted both nodes write to it without a restart, losing nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, seed, sleep, startNode, verifyOnce } from './helpers.js';
import { createPostgres, type PostgresInstance, postgresAvailable } from './postgres-instance.js';

const MAX_LAG_MS = 1_000;

describe.skipIf(!postgresAvailable)('PostgreSQL standby reads and failover', () => {
  let primary: PostgresInstance;
  let standby: PostgresInstance;
  let env: NodeJS.ProcessEnv;
  let a: ServerProcess;
  let b: ServerProcess;
  let tenant: SeededTenant;

  const replicaReport = async (node: ServerProcess) => (await call(node, 'GET', '/readyz')).body.database.replicas[0] as { serving: boolean; reads: number };

  beforeAll(async () => {
    primary = await createPostgres({ synchronousStandbys: 'standby1' });
    standby = await createPostgres({ standbyOf: primary, applicationName: 'standby1' });
    const deadline = Date.now() + 30_000;
    while ((await primary.query<{ s: string }>(`select sync_state as s from pg_stat_replication where application_name = 'standby1'`))[0]?.s !== 'sync') {
      if (Date.now() > deadline) throw new Error('the standby did not become synchronous');
      await sleep(200);
    }
    env = nodeEnv(`postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/postgres`, {
      RELAYKEY_DATABASE_REPLICA_URLS: standby.url,
      RELAYKEY_DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
    });
    a = await startNode(env);
    b = await startNode(env);
    tenant = await seed(a, env);
  }, 240_000);

  afterAll(async () => {
    a?.child.kill('SIGKILL');
    b?.child.kill('SIGKILL');
    await standby?.destroy();
    await primary?.destroy();
  });

  it('cold lookups use the standby within the lag bound; a revocation is never read stale', async () => {
    await sleep(500);
    expect((await replicaReport(b)).serving).toBe(true);
    const readsBefore = (await replicaReport(b)).reads;
    const created: { id: string; secret: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await createCredential(a.url, tenant, `r${i}`);
      created.push({ id: response.body.id, secret: response.body.secret });
    }
    await sleep(MAX_LAG_MS + 200);
    for (const { secret } of created) expect((await verifyOnce(b.url, tenant, secret)).status).toBe(200);
    expect((await replicaReport(b)).reads).toBeGreaterThan(readsBefore);

    // Revoked on A: B (which has it cached) refuses it at once, and reads it from the primary.
    const target = created[0] as { id: string; secret: string };
    await call(a, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials/${target.id}/revoke`, { token: tenant.bearer, body: { reason: 't' } });
    const revokedAt = Date.now();
    while ((await verifyOnce(b.url, tenant, target.secret)).status !== 401) {
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
      await sleep(10);
    }

    // The standby stops replaying: past the bound it serves nothing, and a key created since
    // (which it does not have) is found on the primary.
    await standby.query('select pg_wal_replay_pause()');
    const fresh = await createCredential(a.url, tenant, 'after-pause');
    await sleep(MAX_LAG_MS + 500);
    expect((await replicaReport(b)).serving).toBe(false);
    expect((await verifyOnce(b.url, tenant, fresh.body.secret)).status).toBe(200);
    await standby.query('select pg_wal_replay_resume()');
    await sleep(500);
    expect((await replicaReport(b)).serving).toBe(true);
  }, 120_000);

  it('after the primary crashes and the standby is promoted, both nodes write to it without a restart and lose nothing', async () => {
    const acknowledged: string[] = [];
    const firstOk = new Map<ServerProcess, number>();
    let promotedAt = Number.POSITIVE_INFINITY;
    let running = true;
    const statuses = new Map<number, number>();
    const writer = async (node: ServerProcess, name: string) => {
      let i = 0;
      while (running) {
        const response = await createCredential(node.url, tenant, `${name}${i++}`).catch(() => null);
        const status = response?.status ?? 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 201) {
          acknowledged.push(response?.body.id);
          if (Date.now() > promotedAt && !firstOk.has(node)) firstOk.set(node, Date.now());
        }
        await sleep(10);
      }
    };
    const loops = [writer(a, 'a'), writer(b, 'b')];
    await sleep(1_500);
    const beforeCrash = acknowledged.length;
    await primary.kill();
    await standby.promote();
    promotedAt = Date.now();
    const deadline = Date.now() + 20_000;
    while ((!firstOk.has(a) || !firstOk.has(b)) && Date.now() < deadline) await sleep(50);
    await sleep(1_000);
    running = false;
    await Promise.all(loops);

    const times = [a, b].map((node) => (firstOk.get(node) ?? Number.NaN) - promotedAt);
    console.log(`after promotion: node A wrote in ${times[0]} ms, node B in ${times[1]} ms; statuses`, Object.fromEntries(statuses));
    expect(beforeCrash).toBeGreaterThan(0);
    for (const ms of times) expect(ms).toBeLessThan(5_000);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    // Synchronous standby: every acknowledged write is on the new primary.
    const rows = await standby.query<{ id: string }>('select id from credentials where id = any($1::text[])', [acknowledged]);
    expect(rows.length).toBe(acknowledged.length);
    const ready = await call(a, 'GET', '/readyz');
    expect(ready.body.database.primary).toBe(`127.0.0.1:${standby.port}`);
  }, 120_000);
});
