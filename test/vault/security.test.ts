// Seed 000 security: admin-only, re-auth rules, 404 for unknown tenants, 400 for bad bodies
// with nothing changed, fail-closed decryption, and no secret in any log line or audit row.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountRow, auditTrail, reauth, reveal, revealPassword, rotate, smtpVerifies, vaultPath } from './helpers.js';

describe.each(DIALECTS)('seed 000 security on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;
  const clock = new ManualClock('2026-05-01T08:00:00.000Z');
  const secrets = new Set<string>();
  const remember = (...values: string[]) => {
    for (const value of values) {
      secrets.add(value);
      secrets.add(Buffer.from(value).toString('base64'));
    }
  };
  const issueReauth = async (token = seed.adminToken) => {
    const value = await reauth(server, seed, token);
    remember(value);
    return value;
  };
  const revealAndRemember = async (tenant = seed) => {
    const password = await revealPassword(server, tenant, await issueReauth(tenant.adminToken), tenant.tenantId);
    remember(password);
    return password;
  };

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server);
    other = await seedTenant(server, 'Globex');
    remember(seed.adminPassword);
  });
  afterAll(async () => server?.close());

  const routes = (tenantId: string) => [
    { method: 'GET', path: vaultPath(tenantId) },
    { method: 'POST', path: vaultPath(tenantId, '/rotate'), body: { reason: 'because' } },
    { method: 'POST', path: vaultPath(tenantId, '/emergency-reset'), body: { incident_id: 'INC-1', reason: 'because' } },
    { method: 'GET', path: vaultPath(tenantId, '/audit') },
  ];

  it('unknown tenant ids are 404 on every route', async () => {
    for (const tenantId of [randomUUID(), 'not-a-tenant']) {
      for (const route of routes(tenantId)) {
        const response = await call(server, route.method, route.path, {
          token: seed.adminToken,
          body: route.body,
          headers: { 'x-reauth-token': await issueReauth() },
        });
        expect(response.status, `${route.method} ${route.path}`).toBe(404);
        expect(response.body.error.code).toBe('NOT_FOUND');
      }
    }
  });

  it('tenant tokens get 403, no or bad tokens 401, on every route; nothing changes', async () => {
    const before = await accountRow(server, seed.tenantId);
    for (const route of routes(seed.tenantId)) {
      for (const token of [seed.bearer, seed.loginBearer, seed.server]) {
        const response = await call(server, route.method, route.path, { token, body: route.body });
        expect(response.status, `${route.method} ${route.path}`).toBe(403);
        expect(response.body.error.code).toBe('FORBIDDEN');
      }
      for (const token of [undefined, 'rka_not-a-real-token']) {
        const response = await call(server, route.method, route.path, { ...(token ? { token } : {}), body: route.body });
        expect(response.status).toBe(401);
        expect(response.body.error.code).toBe('UNAUTHENTICATED');
      }
    }
    // An invalid body from a tenant token is still refused as forbidden, not validated.
    const bad = await call(server, 'POST', vaultPath(seed.tenantId, '/rotate'), { token: seed.bearer, body: {} });
    expect(bad.status).toBe(403);
    expect(await accountRow(server, seed.tenantId)).toEqual(before);
  });

  it('reveal without a valid reauth token for this session: 401 with a clear code, a warning audit event, no checkout', async () => {
    await rotate(server, seed, 'clear any checkout');
    const denied = async (headers: Record<string, string>, code: string, outcome: string, token = seed.adminToken) => {
      const before = await accountRow(server, seed.tenantId);
      const response = await call(server, 'GET', vaultPath(seed.tenantId), { token, headers });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe(code);
      expect(response.body.password).toBeUndefined();
      const trail = await auditTrail(server, seed);
      expect(trail.body.events[0]).toMatchObject({ event: 'smtp_credentials_access_denied', severity: 'warning', details: { reauth: outcome } });
      expect(await accountRow(server, seed.tenantId)).toEqual(before);
    };
    await denied({}, 'REAUTH_REQUIRED', 'missing');
    await denied({ 'x-reauth-token': 'garbage' }, 'REAUTH_INVALID', 'invalid');
    await denied({ 'x-reauth-token': 'rkr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'REAUTH_INVALID', 'invalid');

    const expiring = await issueReauth();
    clock.advance(6 * MINUTE);
    await denied({ 'x-reauth-token': expiring }, 'REAUTH_EXPIRED', 'expired');

    // A second session of the same admin may not use the first session's reauth token.
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    const secondSession = login.body.token as string;
    remember(secondSession);
    await denied({ 'x-reauth-token': await issueReauth() }, 'REAUTH_SESSION_MISMATCH', 'foreign', secondSession);
    // ...but its own works.
    const own = await reveal(server, { ...seed, adminToken: secondSession }, await issueReauth(secondSession));
    expect(own.status).toBe(200);
    remember(Buffer.from(own.body.password, 'base64').toString('utf8'));
  });

  it("the account's credential row cannot be changed alone through the native API", async () => {
    const password = await revealAndRemember();
    const account = await accountRow(server, seed.tenantId);
    const base = `/api/v1/tenants/${seed.tenantId}/credentials/${account.credential_id}`;
    for (const [method, suffix, body] of [
      ['POST', '/hold', undefined],
      ['POST', '/revoke', { reason: 'sneaky' }],
      ['POST', '/rotate', {}],
      ['PATCH', '', { name: 'renamed' }],
    ] as const) {
      const response = await call(server, method, `${base}${suffix}`, { token: seed.bearer, ...(body ? { body } : {}) });
      expect(response.status, `${method} ${suffix}`).toBe(409);
      expect(response.body.error.code).toBe('INVALID_STATE');
    }
    expect(await accountRow(server, seed.tenantId)).toEqual(account);
    expect(await smtpVerifies(server, seed, password)).toBe(true);
  });

  it('bad bodies are 400 with a code and change nothing', async () => {
    const before = await accountRow(server, seed.tenantId);
    const totalBefore = (await auditTrail(server, seed)).body.total;
    const cases: Array<{ path: string; body?: unknown; rawBody?: string; code: string }> = [
      { path: '/rotate', body: { reason: '' }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', body: { reason: '   ' }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', body: { reason: 'x'.repeat(501) }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', body: { reason: 42 }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', body: { reason: 'ok', force: true }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', body: { reason: `leaked ${seed.bearer}` }, code: 'VALIDATION_FAILED' },
      { path: '/rotate', rawBody: '{"reason": ', code: 'MALFORMED_JSON' },
      { path: '/rotate', body: [], code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { reason: 'no incident' }, code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { incident_id: 'INC-9' }, code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { incident_id: '', reason: 'x' }, code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { incident_id: 'INC 9; drop', reason: 'x' }, code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { incident_id: 'I'.repeat(101), reason: 'x' }, code: 'VALIDATION_FAILED' },
      { path: '/emergency-reset', body: { incident_id: 'INC-9', reason: 'x'.repeat(501) }, code: 'VALIDATION_FAILED' },
    ];
    const reauthToken = await reauth(server, seed);
    for (const testCase of cases) {
      const response = await call(server, 'POST', vaultPath(seed.tenantId, testCase.path), {
        token: seed.adminToken,
        headers: { 'x-reauth-token': reauthToken },
        ...(testCase.rawBody !== undefined ? { rawBody: testCase.rawBody } : { body: testCase.body }),
      });
      expect(response.status, JSON.stringify(testCase)).toBe(400);
      expect(response.body.error.code).toBe(testCase.code);
      expect(response.body.error.message).toBeTruthy();
    }
    const badPage = await call(server, 'GET', `${vaultPath(seed.tenantId, '/audit')}?page=0`, { token: seed.adminToken });
    expect(badPage.status).toBe(400);
    expect(badPage.body.error.code).toBe('VALIDATION_FAILED');
    expect(await accountRow(server, seed.tenantId)).toEqual(before);
    expect((await auditTrail(server, seed)).body.total).toBe(totalBefore);
  });

  it('a flipped ciphertext byte fails closed: 500 DECRYPTION_FAILED, no plaintext, a critical audit event, no checkout', async () => {
    clock.advance(20 * MINUTE);
    await rotate(server, seed, 'clean state');
    const account = await accountRow(server, seed.tenantId);
    const raw = Buffer.from(account.ciphertext, 'base64');
    raw[3] = (raw[3] as number) ^ 0x01;
    await server.sql('UPDATE smtp_accounts SET ciphertext = ? WHERE id = ?', [raw.toString('base64'), account.id]);
    const response = await reveal(server, seed, await issueReauth());
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('DECRYPTION_FAILED');
    expect(response.body.password).toBeUndefined();
    const trail = await auditTrail(server, seed);
    expect(trail.body.events[0]).toMatchObject({ event: 'smtp_credentials_decryption_failed', severity: 'critical' });
    expect(
      trail.body.events.some((e: { event: string; timestamp: string }) => e.event === 'smtp_credentials_accessed' && e.timestamp === clock.now().toISOString()),
    ).toBe(false);
    expect((await accountRow(server, seed.tenantId)).checkout_expires_at).toBeNull();

    await server.sql('UPDATE smtp_accounts SET ciphertext = ? WHERE id = ?', [account.ciphertext, account.id]);
    const password = await revealAndRemember();
    expect(await smtpVerifies(server, seed, password)).toBe(true);
  });

  it('a swapped AAD fails closed: another version number, or another tenant account’s ciphertext', async () => {
    clock.advance(20 * MINUTE);
    await rotate(server, seed, 'clean state');
    await rotate(server, other, 'clean state', other.tenantId);
    const mine = await accountRow(server, seed.tenantId);
    const theirs = await accountRow(server, other.tenantId);

    await server.sql('UPDATE smtp_accounts SET secret_version = ? WHERE id = ?', [mine.secret_version + 1, mine.id]);
    const versionSwapped = await reveal(server, seed, await issueReauth());
    expect(versionSwapped.status).toBe(500);
    expect(versionSwapped.body.error.code).toBe('DECRYPTION_FAILED');
    await server.sql('UPDATE smtp_accounts SET secret_version = ? WHERE id = ?', [mine.secret_version, mine.id]);

    await server.sql('UPDATE smtp_accounts SET ciphertext = ?, nonce = ?, secret_version = ? WHERE id = ?', [
      theirs.ciphertext,
      theirs.nonce,
      theirs.secret_version,
      mine.id,
    ]);
    const moved = await reveal(server, seed, await issueReauth());
    expect(moved.status).toBe(500);
    expect(moved.body.error.code).toBe('DECRYPTION_FAILED');
    await server.sql('UPDATE smtp_accounts SET ciphertext = ?, nonce = ?, secret_version = ? WHERE id = ?', [
      mine.ciphertext,
      mine.nonce,
      mine.secret_version,
      mine.id,
    ]);

    // A tampered wrapped data key fails closed as well.
    const [key] = await server.sql<{ wrapped_key: string }>('SELECT wrapped_key FROM tenant_data_keys WHERE tenant_id = ?', [seed.tenantId]);
    const wrapped = Buffer.from((key as { wrapped_key: string }).wrapped_key, 'base64');
    wrapped[20] = (wrapped[20] as number) ^ 0x80;
    await server.sql('UPDATE tenant_data_keys SET wrapped_key = ? WHERE tenant_id = ?', [wrapped.toString('base64'), seed.tenantId]);
    const badKey = await reveal(server, seed, await issueReauth());
    expect(badKey.status).toBe(500);
    expect(badKey.body.error.code).toBe('DECRYPTION_FAILED');
    await server.sql('UPDATE tenant_data_keys SET wrapped_key = ? WHERE tenant_id = ?', [(key as { wrapped_key: string }).wrapped_key, seed.tenantId]);

    const critical = (await auditTrail(server, seed)).body.events.filter((e: { event: string }) => e.event === 'smtp_credentials_decryption_failed');
    expect(critical.length).toBeGreaterThanOrEqual(3);
    expect(critical.every((e: { severity: string }) => e.severity === 'critical')).toBe(true);
    await revealAndRemember();
    await revealAndRemember(other);
  });

  it('the admin password, reauth tokens and SMTP passwords appear in no log line and no audit row', async () => {
    const reset = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      token: seed.adminToken,
      headers: { 'x-reauth-token': await reauth(server, seed) },
      body: { incident_id: 'INC-LOG-1', reason: 'log check' },
    });
    expect(reset.status).toBe(200);
    remember(Buffer.from(reset.body.password, 'base64').toString('utf8'));
    expect(secrets.size).toBeGreaterThan(20);
    const logs = server.logs.join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    const audit = JSON.stringify(await server.sql('SELECT * FROM audit_events'));
    for (const secret of secrets) {
      expect(logs.includes(secret), 'secret in logs').toBe(false);
      expect(audit.includes(secret), 'secret in audit').toBe(false);
    }
  });
});
