// PostgreSQL faults under verify and write traffic, against a private PostgreSQL this test
// starts itself: terminated backends, a restart, and a 20 s stop. No node exits, hot
// verifications keep answering, writes get 503 + Retry-After with a code naming the cause and
// succeed again within 2 s of PostgreSQL's return, and no acknowledged write is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KEY_PREFIXES } from '../../src/crypto/key-format.js';
import type { SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, seed, sleep, startNode, verifyOnce, hotCredentials } from './helpers.js';
import { createPostgres, type PostgresInstance, postgresAvailable } from './postgres-instance.js';

const OUTAGE_MS = 20_000;

describe.skipIf(!postgresAvailable)('PostgreSQL outages under traffic', () => {
  let pgi: PostgresInstance;
  let node: ServerProcess;
  let tenant: SeededTenant;
  const hot: string[] = [];
  const acknowledged: string[] = [];
  const tally = { verify: new Map<number, number>(), write: new Map<number, number>() };
  const faultCodes = new Set<string>();
  let running = false;
  let loops: Promise<void>[] = [];
  let writes = 0;
  let lastWriteOkAt = 0;
  let masterKey = '';
  const writeOkTimes: number[] = [];

  const count = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);

  async function writeLoop() {
    while (running) {
      const response = await createCredential(node.url, tenant, `w${writes++}`).catch(() => null);
      if (!response) {
        count(tally.write, 0);
      } else {
        count(tally.write, response.status);
        if (response.status === 201) {
          acknowledged.push(response.body.id);
          lastWriteOkAt = Date.now();
          writeOkTimes.push(lastWriteOkAt);
        } else if (response.status === 503) {
          faultCodes.add(response.body.error.code);
          expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        }
      }
      await sleep(20);
    }
  }

  async function verifyLoop(offset: number) {
    let i = offset;
    while (running) {
      const response = await verifyOnce(node.url, tenant, hot[i++ % hot.length] as string).catch(() => null);
      count(tally.verify, response?.status ?? 0);
    }
  }

  const startTraffic = () => {
    running = true;
    loops = [writeLoop(), verifyLoop(0), verifyLoop(3)];
  };
  const stopTraffic = async () => {
    running = false;
    await Promise.all(loops);
  };

  beforeAll(async () => {
    pgi = await createPostgres();
    // A short cache TTL: during the outage every hot entry is past it, so what answers is the
    // stale-while-down path, not the ordinary cache.
    const env = nodeEnv(pgi.url, { RELAYKEY_VERIFY_CACHE_TTL_MS: '1000', RELAYKEY_LOG_LEVEL: 'info' });
    masterKey = env.RELAYKEY_MASTER_KEY as string;
    node = await startNode(env);
    tenant = await seed(node, env);
    hot.push(...(await hotCredentials(node.url, tenant, 8)));
  }, 180_000);

  afterAll(async () => {
    running = false;
    node?.child.kill('SIGKILL');
    await pgi?.destroy();
  });

  it('survives terminated backends, a restart and a 20 s stop', async () => {
    startTraffic();
    await sleep(1_000);

    // 1. Every backend terminated (idle pooled ones and the LISTEN connection included).
    await pgi.query(`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and backend_type = 'client backend'`);
    await sleep(1_500);
    expect(node.child.exitCode).toBeNull();
    const afterTerminate = Date.now();
    await sleep(1_000);
    expect(lastWriteOkAt).toBeGreaterThan(afterTerminate);

    // 2. A restart.
    await pgi.stop();
    await pgi.start();
    const restarted = Date.now();
    await sleep(2_000);
    expect(node.child.exitCode).toBeNull();
    expect(lastWriteOkAt).toBeGreaterThan(restarted);

    // 3. Stopped for 20 s.
    await pgi.stop();
    const stoppedAt = Date.now();
    tally.verify.clear();
    tally.write.clear();
    await sleep(OUTAGE_MS);
    const during = { verify: new Map(tally.verify), write: new Map(tally.write) };
    // A key this node has never seen: fails closed, as a temporary failure, never "wrong password".
    const unknown = await verifyOnce(node.url, tenant, generateKey(KEY_PREFIXES.credential));
    expect(unknown.status).toBe(503);
    expect(unknown.body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(unknown.headers.get('retry-after')).toBe('1');
    const nginx = await fetch(`${node.url}/auth/nginx`, {
      headers: {
        authorization: `Bearer ${tenant.verifier}`,
        'auth-method': 'plain',
        'auth-user': 'someone',
        'auth-pass': generateKey(KEY_PREFIXES.credential),
        'auth-protocol': 'smtp',
        'auth-login-attempt': '1',
        'client-ip': '192.0.2.1',
      },
    });
    expect(nginx.status).toBe(200);
    expect(nginx.headers.get('auth-status')).toBe('Temporary server problem, try again later');
    expect(nginx.headers.get('auth-error-code')).toBe('451 4.3.0');
    const cold = await createCredential(node.url, tenant, 'never').catch(() => null);
    expect(cold?.status).toBe(503);
    expect(cold?.body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(OUTAGE_MS);
    await pgi.start();
    const back = Date.now();
    await sleep(3_000);
    await stopTraffic();

    console.log('during the outage: verify', Object.fromEntries(during.verify), 'write', Object.fromEntries(during.write));
    const firstWrite = writeOkTimes.find((t) => t > back) ?? Number.NaN;
    console.log(`first acknowledged write ${firstWrite - back} ms after PostgreSQL returned`);
    expect(firstWrite - back).toBeLessThan(2_000);
    expect(node.child.exitCode).toBeNull();
    // Hot verifications kept answering 200 for the whole outage; writes got 503, never 500.
    expect(during.verify.get(200) ?? 0).toBeGreaterThan(100);
    expect([...during.verify.keys()].filter((s) => s !== 200)).toEqual([]);
    expect(during.write.get(503) ?? 0).toBeGreaterThan(10);
    expect(during.write.get(500) ?? 0).toBe(0);
    expect(faultCodes.has('DATABASE_UNAVAILABLE')).toBe(true);
    expect(lastWriteOkAt).toBeGreaterThan(back);
    expect(tally.write.get(500) ?? 0).toBe(0);

    // Nothing acknowledged was lost.
    const rows = await pgi.query<{ id: string }>('select id from credentials where id = any($1::text[])', [acknowledged]);
    expect(rows.length).toBe(acknowledged.length);

    // Logged once per change of state, not once per request with a stack.
    const log = node.output.join('');
    const faultLines = log.split('\n').filter((l) => l.includes('database fault'));
    expect(faultLines.length).toBeGreaterThan(0);
    expect(faultLines.length).toBeLessThan(20);
    expect(log).not.toContain('request failed');
    expect(log).not.toContain('Unhandled');
  }, 180_000);

  it('a node started while PostgreSQL is down waits for it; past RELAYKEY_STARTUP_WAIT_SECONDS it exits in one line', async () => {
    await pgi.stop();
    const env = nodeEnv(pgi.url, { RELAYKEY_STARTUP_WAIT_SECONDS: '1' });
    const refused = await startNode(env).then(
      (started) => {
        started.child.kill('SIGKILL');
        return null;
      },
      (error: Error) => error.message,
    );
    expect(refused).toContain('did not answer within 1 s (RELAYKEY_STARTUP_WAIT_SECONDS)');

    const starting = startNode(nodeEnv(pgi.url, { RELAYKEY_STARTUP_WAIT_SECONDS: '60', RELAYKEY_MASTER_KEY: masterKey }));
    // Long enough for the process to boot (tsx compiles the sources first) and find it down.
    await sleep(15_000);
    await pgi.start();
    const late = await starting;
    try {
      expect(late.output.join('')).toContain('waiting for the database');
      expect((await verifyOnce(late.url, tenant, hot[0] as string)).status).toBe(200);
    } finally {
      late.child.kill('SIGKILL');
    }
  }, 120_000);
});
