// Two relaykey processes on one database: hold and revoke on one are refused on the other
// within the stated bound (1 s), long before the verify cache TTL (30 s) would expire; a
// tenant's mail_backends change reaches the other node's nginx answers within the same bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { type ServerProcess, spawnServer, stopServerProcess } from '../helpers/process.js';
import { type DialectName, POSTGRES_URL, startTestServer, type TestServer } from '../helpers/server.js';

/** The bound the docs state for a change to reach every node's verify cache. */
const BOUND_MS = 1_000;

// PostgreSQL carries changes by LISTEN/NOTIFY; two processes on one SQLite file by Redis pub/sub.
const SETUPS: [string, DialectName, Record<string, string>][] = [
  ...(POSTGRES_URL ? [['PostgreSQL LISTEN/NOTIFY', 'postgres', {}] as [string, DialectName, Record<string, string>]] : []),
  ['Redis pub/sub', 'sqlite', { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' }],
];

describe.each(SETUPS)('revocation across two processes via %s', (_name, dialect, env) => {
  let nodeA: TestServer;
  let nodeB: ServerProcess;
  let urlB: string;
  let seed: SeededTenant;
  const output = () => nodeB.output.join('');

  beforeAll(async () => {
    nodeA = await startTestServer(dialect, { env: { ...env, RELAYKEY_VERIFY_CACHE_TTL_MS: '30000' } });
    seed = await seedTenant(nodeA);
    nodeB = await spawnServer(nodeA.env, 60_000);
    urlB = nodeB.url;
  }, 120_000);

  afterAll(async () => {
    await stopServerProcess(nodeB);
    await nodeA?.close();
  });

  const verifyOnB = async (secret: string) =>
    (
      await call({ url: urlB }, 'POST', '/api/v1/verify', {
        token: seed.verifier,
        body: { username: seed.loginAddress, password: secret, protocol: 'smtp', client_ip: '198.51.100.50' },
      })
    ).status;

  async function measure(action: 'hold' | 'revoke' | 'rotate'): Promise<number> {
    const created = await call(nodeA, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: `${action} me`, scopes: ['smtp'], login_id: seed.loginId },
    });
    const { id, secret } = created.body;
    // Node B has the key in its verify cache.
    expect(await verifyOnB(secret)).toBe(200);
    expect(await verifyOnB(secret)).toBe(200);
    const body = action === 'revoke' ? { reason: 'compromised' } : action === 'rotate' ? { grace_period_seconds: 0 } : undefined;
    const changed = await call(nodeA, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/${action}`, {
      token: seed.bearer,
      ...(body ? { body } : {}),
    });
    expect(changed.status, changed.text).toBeLessThan(300);
    const committedAt = performance.now();
    for (;;) {
      const status = await verifyOnB(secret);
      const elapsed = performance.now() - committedAt;
      if (status === 401) return elapsed;
      if (elapsed > BOUND_MS * 5) throw new Error(`node B still accepts the ${action} key after ${elapsed.toFixed(0)} ms (${output()})`);
    }
  }

  it(`a hold, a revoke and a rotate on node A are refused on node B within ${BOUND_MS} ms`, async () => {
    const held = await measure('hold');
    const revoked = await measure('revoke');
    const rotated = await measure('rotate');
    console.info(`${_name}: hold reached node B in ${held.toFixed(1)} ms, revoke in ${revoked.toFixed(1)} ms, rotate in ${rotated.toFixed(1)} ms`);
    expect(held).toBeLessThan(BOUND_MS);
    expect(revoked).toBeLessThan(BOUND_MS);
    expect(rotated).toBeLessThan(BOUND_MS);
  });
});

describe.each(SETUPS)('mail_backends across two processes via %s', (_name, dialect, env) => {
  let nodeA: TestServer;
  let nodeB: ServerProcess;
  let urlB: string;
  let seed: SeededTenant;
  const output = () => nodeB.output.join('');

  beforeAll(async () => {
    nodeA = await startTestServer(dialect, { env: { ...env, RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110' } });
    seed = await seedTenant(nodeA);
    nodeB = await spawnServer(nodeA.env, 60_000);
    urlB = nodeB.url;
  }, 120_000);

  afterAll(async () => {
    await stopServerProcess(nodeB);
    await nodeA?.close();
  });

  it(`a tenant's new IMAP backend is in node B's nginx answers within ${BOUND_MS} ms (not after the 30 s cache)`, async () => {
    const created = await call(nodeA, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'imap', scopes: ['imap'], login_id: seed.loginId },
    });
    const backendOnB = async () => {
      const answer = await fetch(`${urlB}/auth/nginx`, {
        headers: {
          authorization: `Bearer ${seed.verifier}`,
          'auth-method': 'plain',
          'auth-protocol': 'imap',
          'auth-user': seed.loginAddress,
          'auth-pass': created.body.secret,
          'client-ip': '198.51.100.60',
        },
      });
      return `${answer.headers.get('auth-server')}:${answer.headers.get('auth-port')}`;
    };
    // Node B has the tenant's backends (none of its own: the default) in its cache.
    expect(await backendOnB()).toBe('127.0.0.1:10143');
    for (const [step, backend] of [
      [1, '127.0.0.2:1143'],
      [2, '127.0.0.3:2143'],
    ] as const) {
      const patched = await call(nodeA, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, { token: seed.adminToken, body: { mail_backends: { imap: backend } } });
      expect(patched.status, patched.text).toBe(200);
      const committedAt = performance.now();
      for (;;) {
        const seen = await backendOnB();
        const elapsed = performance.now() - committedAt;
        if (seen === backend) {
          console.info(`${_name}: mail_backends change ${step} reached node B in ${elapsed.toFixed(1)} ms`);
          expect(elapsed).toBeLessThan(BOUND_MS);
          break;
        }
        if (elapsed > BOUND_MS * 5) throw new Error(`node B still sends IMAP to ${seen} after ${elapsed.toFixed(0)} ms (${output()})`);
      }
    }
  });
});
