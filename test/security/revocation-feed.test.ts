// Revoking a token or an admin session on node A is honoured by node B within a second: the
// revocation travels on the change feed that carries credential changes (PostgreSQL
// LISTEN/NOTIFY, Redis pub/sub), and a node keeps a token in its cache for a second at most.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { type ServerProcess, spawnServer, stopServerProcess } from '../helpers/process.js';
import { type DialectName, POSTGRES_URL, startTestServer, type TestServer } from '../helpers/server.js';

const BOUND_MS = 1_000;

const SETUPS: [string, DialectName, Record<string, string>][] = [
  ...(POSTGRES_URL ? [['PostgreSQL LISTEN/NOTIFY', 'postgres', {}] as [string, DialectName, Record<string, string>]] : []),
  ['Redis pub/sub', 'sqlite', { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' }],
];

describe.each(SETUPS)('token revocation across two processes via %s', (_name, dialect, env) => {
  let nodeA: TestServer;
  let nodeB: ServerProcess;
  let seed: SeededTenant;

  beforeAll(async () => {
    nodeA = await startTestServer(dialect, { env: { ...env } });
    seed = await seedTenant(nodeA, 'Feed');
    nodeB = await spawnServer({ ...nodeA.env, ...env });
  }, 120_000);

  afterAll(async () => {
    await stopServerProcess(nodeB);
    await nodeA?.close();
  });

  async function refusedOnB(what: string, probe: () => Promise<number>, revoke: () => Promise<void>): Promise<number> {
    expect(await probe()).not.toBe(401);
    expect(await probe()).not.toBe(401); // now from B's token cache
    await revoke();
    const revokedAt = performance.now();
    for (;;) {
      const status = await probe();
      const elapsed = performance.now() - revokedAt;
      if (status === 401) return elapsed;
      if (elapsed > BOUND_MS * 5) throw new Error(`node B still accepts the ${what} ${elapsed.toFixed(0)} ms after its revocation`);
    }
  }

  it(`a revoked bearer token, server key, verifier token and admin session (with its re-auth token) are refused on node B within ${BOUND_MS} ms`, async () => {
    const tokens = await call(nodeA, 'GET', `/api/v1/tenants/${seed.tenantId}/tokens`, { token: seed.adminToken });
    const bearerId = tokens.body.data.find((t: { name: string }) => t.name === 'tenant bearer').id;
    const bearer = await refusedOnB(
      'bearer token',
      async () => (await call(nodeB, 'GET', `/api/v1/tenants/${seed.tenantId}`, { token: seed.bearer })).status,
      async () => {
        expect((await call(nodeA, 'DELETE', `/api/v1/tenants/${seed.tenantId}/tokens/${bearerId}`, { token: seed.adminToken })).status).toBe(204);
      },
    );
    const serverKeyId = tokens.body.data.find((t: { name: string }) => t.name === 'server key').id;
    const serverKey = await refusedOnB(
      'server key (X-Server-API-Key)',
      async () => (await call(nodeB, 'POST', '/api/v1/credentials/list', { headers: { 'x-server-api-key': seed.server }, body: {} })).status,
      async () => {
        expect((await call(nodeA, 'DELETE', `/api/v1/tenants/${seed.tenantId}/tokens/${serverKeyId}`, { token: seed.adminToken })).status).toBe(204);
      },
    );
    const verifiers = await call(nodeA, 'GET', '/api/v1/verifier-tokens', { token: seed.adminToken });
    const verifierId = verifiers.body.data[0].id;
    const verifier = await refusedOnB(
      'verifier token',
      async () =>
        (await verify(nodeB, seed.verifier, { username: 'nobody', password: 'nothing-valid-here', protocol: 'smtp' })).status === 401 &&
        (await verify(nodeB, seed.verifier, { username: 'nobody', password: 'nothing-valid-here', protocol: 'smtp' })).body?.error?.code === 'UNAUTHENTICATED'
          ? 401
          : 200,
      async () => {
        expect((await call(nodeA, 'DELETE', `/api/v1/verifier-tokens/${verifierId}`, { token: seed.adminToken })).status).toBe(204);
      },
    );
    const second = await call(nodeA, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    // A re-auth token of that session, good on node B until the session ends on node A.
    const reauthToken = (await call(nodeA, 'POST', '/api/v1/auth/reauth', { token: second.body.token, body: { password: seed.adminPassword } })).body
      .reauth_token as string;
    const vault = `/api/v1/platform-admin/tenants/${seed.tenantId}/smtp-credentials`;
    expect((await call(nodeB, 'GET', vault, { token: second.body.token, headers: { 'x-reauth-token': reauthToken } })).status).toBe(200);
    const session = await refusedOnB(
      'admin session',
      async () => (await call(nodeB, 'GET', '/api/v1/tenants', { token: second.body.token })).status,
      async () => {
        // End every other session of this admin ("sign out everywhere else").
        const ended = await call(nodeA, 'POST', '/api/v1/auth/sessions/end-all?keep_current=true', { token: seed.adminToken });
        expect(ended.status).toBe(200);
        expect(ended.body.ended).toBeGreaterThanOrEqual(1);
      },
    );
    // The re-auth token died with its session: refused on B as well.
    expect((await call(nodeB, 'GET', vault, { token: second.body.token, headers: { 'x-reauth-token': reauthToken } })).status).toBe(401);
    expect({ bearer, serverKey, verifier, session }).toEqual({
      bearer: expect.any(Number),
      serverKey: expect.any(Number),
      verifier: expect.any(Number),
      session: expect.any(Number),
    });
    for (const elapsed of [bearer, serverKey, verifier, session]) expect(elapsed).toBeLessThan(BOUND_MS);
  });
});
