// The admin control plane as an attacker tries it: a vaulted secret needs a re-authentication
// of the same session on every route that answers one, and the answers carry the headers that
// keep tokens out of caches and content types from being sniffed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';
import { reauth, vaultPath } from '../vault/helpers.js';

describe.each(DIALECTS)('admin plane on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Plane');
  });
  afterAll(async () => server?.close());

  it('an emergency reset answers the new password only with an X-Reauth-Token of the same session', async () => {
    const body = { incident_id: 'INC-REAUTH-1', reason: 'suspected leak' };
    const path = vaultPath(seed.tenantId, '/emergency-reset');
    const before = await databaseFingerprint(server, ['smtp_accounts']);
    const bare = await call(server, 'POST', path, { token: seed.adminToken, body });
    expect(bare.status).toBe(401);
    expect(bare.body.error.code).toBe('REAUTH_REQUIRED');
    expect(bare.text).not.toContain('password');

    // A re-auth token of another session of the same admin does not do.
    const second = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    const foreign = await reauth(server, seed, second.body.token);
    const mismatched = await call(server, 'POST', path, { token: seed.adminToken, body, headers: { 'x-reauth-token': foreign } });
    expect(mismatched.status).toBe(401);
    expect(mismatched.body.error.code).toBe('REAUTH_SESSION_MISMATCH');
    const garbled = await call(server, 'POST', path, { token: seed.adminToken, body, headers: { 'x-reauth-token': 'rkr_garbled' } });
    expect(garbled.body.error.code).toBe('REAUTH_INVALID');
    // The refusals are audited on the vault's trail, and nothing else changed.
    const trail = await call(server, 'GET', vaultPath(seed.tenantId, '/audit'), { token: seed.adminToken });
    expect(trail.body.events.filter((e: { event: string }) => e.event === 'smtp_credentials_access_denied').length).toBeGreaterThanOrEqual(3);
    const accounts = await server.sql<{ secret_version: number }>('SELECT secret_version FROM smtp_accounts WHERE tenant_id = ?', [seed.tenantId]);
    expect(accounts.map((a) => Number(a.secret_version))).toEqual([1]);
    expect(before).toBeTruthy();

    const granted = await call(server, 'POST', path, { token: seed.adminToken, body, headers: { 'x-reauth-token': await reauth(server, seed) } });
    expect(granted.status, granted.text).toBe(200);
    expect(granted.body.password).toBeTruthy();
  });

  it('sign-in and re-auth answers are never cached; every answer says nosniff; /docs has a CSP', async () => {
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
    const re = await call(server, 'POST', '/api/v1/auth/reauth', { token: login.body.token, body: { password: seed.adminPassword } });
    expect(re.status).toBe(200);
    expect(re.headers.get('cache-control')).toBe('no-store');
    for (const [what, response] of [
      ['login', login],
      ['reauth', re],
      ['tenants', await call(server, 'GET', '/api/v1/tenants', { token: seed.adminToken })],
      ['tenants unauthenticated', await call(server, 'GET', '/api/v1/tenants')],
      ['verify', await call(server, 'POST', '/api/v1/verify', { token: seed.verifier, body: { username: 'x', password: 'y', protocol: 'smtp' } })],
      ['verify unauthenticated', await call(server, 'POST', '/api/v1/verify', { body: { username: 'x', password: 'y', protocol: 'smtp' } })],
      ['docs', await call(server, 'GET', '/docs/static/index.html')],
      ['openapi', await call(server, 'GET', '/openapi.json')],
    ] as const) {
      expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
    }
    const docs = await call(server, 'GET', '/docs/static/index.html');
    expect(docs.status).toBe(200);
    const csp = docs.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
  });

  it('every API answer that carries a secret or a token is no-store (a default for /api/, not a header per route)', async () => {
    const credentials = `/api/v1/tenants/${seed.tenantId}/credentials`;
    const created = await call(server, 'POST', credentials, { token: seed.adminToken, body: { name: 'cached?', scopes: ['smtp'] } });
    const rotated = await call(server, 'POST', `${credentials}/${created.body.id}/rotate`, { token: seed.adminToken, body: {} });
    const verifier = await call(server, 'POST', '/api/v1/verifier-tokens', { token: seed.adminToken, body: { name: 'cache check' } });
    const revealed = await call(server, 'GET', vaultPath(seed.tenantId, ''), {
      token: seed.adminToken,
      headers: { 'x-reauth-token': await reauth(server, seed) },
    });
    const reset = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      token: seed.adminToken,
      body: { incident_id: 'INC-CACHE-1', reason: 'cache check' },
      headers: { 'x-reauth-token': await reauth(server, seed) },
    });
    const listed = await call(server, 'GET', '/api/v1/tenants', { token: seed.adminToken });
    for (const [what, response, status] of [
      ['credential create', created, 201],
      ['credential rotate', rotated, 201],
      ['verifier token create', verifier, 201],
      ['vault reveal', revealed, 200],
      ['emergency reset', reset, 200],
      ['tenant list', listed, 200],
    ] as const) {
      expect(response.status, `${what}: ${response.text.slice(0, 200)}`).toBe(status);
      expect(response.headers.get('cache-control'), what).toBe('no-store');
    }
  });

  it('an unauthenticated caller gets 401 before any validation detail', async () => {
    for (const [method, path, body] of [
      ['POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { nonsense: true }],
      ['PATCH', `/api/v1/tenants/${seed.tenantId}`, { name: 42 }],
      ['POST', '/api/v1/verifier-tokens', { bogus: 1 }],
      ['POST', '/api/v1/verify', { username: 1 }],
      ['POST', '/api/v1/auth/reauth', {}],
      ['GET', `/api/v1/tenants/not-a-uuid/credentials?page=-1`, undefined],
    ] as const) {
      const response = await call(server, method, path, body === undefined ? {} : { body });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('file modes of the SQLite database', () => {
  it('the data directory is 0700 and the database, -wal and -shm files 0600, even when they were wider', async () => {
    const { mkdtempSync, statSync, chmodSync, writeFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = join(mkdtempSync(join(tmpdir(), 'relaykey-modes-')), 'data');
    const server = await startTestServer('sqlite', { env: { RELAYKEY_DATABASE_URL: `sqlite:${join(dir, 'relaykey.db')}`, RELAYKEY_DATA_DIR: dir } });
    try {
      await seedTenant(server, 'Modes');
      const mode = (path: string) => statSync(path).mode & 0o777;
      expect(mode(dir)).toBe(0o700);
      for (const file of ['relaykey.db', 'relaykey.db-wal', 'relaykey.db-shm']) {
        expect(existsSync(join(dir, file)), file).toBe(true);
        expect(mode(join(dir, file)), file).toBe(0o600);
      }
    } finally {
      await server.close();
    }
    // A database left 0644 in a 0755 directory by an older version is narrowed at the next start.
    const old = join(mkdtempSync(join(tmpdir(), 'relaykey-modes-')), 'data');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(old, { mode: 0o755 });
    chmodSync(old, 0o755);
    writeFileSync(join(old, 'relaykey.db'), '', { mode: 0o644 });
    chmodSync(join(old, 'relaykey.db'), 0o644);
    const again = await startTestServer('sqlite', { env: { RELAYKEY_DATABASE_URL: `sqlite:${join(old, 'relaykey.db')}`, RELAYKEY_DATA_DIR: old } });
    try {
      expect(statSync(old).mode & 0o777).toBe(0o700);
      expect(statSync(join(old, 'relaykey.db')).mode & 0o777).toBe(0o600);
    } finally {
      await again.close();
    }
  });
});
