// The whole core over real HTTP and the real CLI: admin, login, reauth, tenant, login, token,
// credential, verification in every state, audit, and tamper detection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('core end to end on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  // Expiry and grace periods are tested by moving this clock, never by sleeping.
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  const create = (body: Record<string, unknown>, token = seed.bearer) => call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token, body });

  it('admin reauth gives a session-bound token', async () => {
    const reauth = await call(server, 'POST', '/api/v1/auth/reauth', { token: seed.adminToken, body: { password: seed.adminPassword } });
    expect(reauth.status).toBe(200);
    expect(reauth.body.reauth_token).toMatch(/^rkr_/);
    const wrong = await call(server, 'POST', '/api/v1/auth/reauth', { token: seed.adminToken, body: { password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_LOGIN');
    const badLogin = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: 'nope nope nope' } });
    expect(badLogin.status).toBe(401);
  });

  it('issues a credential once and verifies it only where every check passes', async () => {
    const created = await create({ name: 'Thunderbird', scopes: ['smtp', 'imap'], login_id: seed.loginId });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^rk_[0-9A-Za-z]{38}$/);
    const id = created.body.id as string;

    // Never again in a list or a get.
    const list = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer });
    const got = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${id}`, { token: seed.bearer });
    expect(list.text).not.toContain(secret);
    expect(got.text).not.toContain(secret);
    expect(got.body.secret).toBeUndefined();

    const ok = await verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'smtp' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      valid: true,
      tenant_id: seed.tenantId,
      credential_id: id,
      login: seed.loginAddress,
      identity: seed.loginAddress,
      scopes: ['smtp', 'imap'],
    });

    // Uniform denials.
    const denials = [
      { username: seed.loginAddress, password: secret, protocol: 'pop3' }, // missing scope
      { username: 'bob@elsewhere.test', password: secret, protocol: 'smtp' }, // wrong login
      { username: seed.loginAddress, password: `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`, protocol: 'smtp' }, // garbled
      { username: seed.loginAddress, password: 'rk_short', protocol: 'smtp' },
    ];
    for (const body of denials) {
      const denied = await verify(server, seed.verifier, body);
      expect(denied.status).toBe(401);
      expect(denied.body).toEqual({ valid: false });
    }

    // Held, then released, then revoked.
    expect((await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/hold`, { token: seed.bearer })).body.status).toBe('held');
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'smtp' })).status).toBe(401);
    await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/unhold`, { token: seed.bearer });
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'smtp' })).status).toBe(200);
    const revoked = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/revoke`, {
      token: seed.bearer,
      body: { reason: 'left the company' },
    });
    expect(revoked.body).toMatchObject({ status: 'revoked', revoked_reason: 'left the company' });
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'smtp' })).status).toBe(401);
  });

  it('expired credentials fail verification', async () => {
    const soon = new Date(clock.now().getTime() + 1500).toISOString();
    const created = await create({ name: 'short-lived', scopes: ['api:read'], expires_at: soon });
    expect(created.status).toBe(201);
    const body = { username: '', password: created.body.secret, protocol: 'api:read' };
    expect((await verify(server, seed.verifier, body)).status).toBe(200);
    clock.advance(1499);
    expect((await verify(server, seed.verifier, body)).status).toBe(200);
    clock.advance(1);
    expect((await verify(server, seed.verifier, body)).status).toBe(401);
  });

  it('rotation: successor works at once, the old key only during the grace period', async () => {
    const created = await create({ name: 'rotating', role: 'standard', login_id: seed.loginId });
    const oldSecret = created.body.secret as string;
    const noGrace = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${created.body.id}/rotate`, { token: seed.bearer, body: {} });
    expect(noGrace.status).toBe(201);
    expect(noGrace.body).toMatchObject({ name: 'rotating', role: 'standard', login_id: seed.loginId, replaces_id: created.body.id });
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: oldSecret, protocol: 'imap' })).status).toBe(401);
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: noGrace.body.secret, protocol: 'imap' })).status).toBe(200);

    const graced = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${noGrace.body.id}/rotate`, {
      token: seed.bearer,
      body: { grace_period_seconds: 3600 },
    });
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: noGrace.body.secret, protocol: 'imap' })).status).toBe(200);
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: graced.body.secret, protocol: 'imap' })).status).toBe(200);
    // The grace period is counted in seconds: the old key works until its last second, then stops.
    clock.advance(HOUR - 1000);
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: noGrace.body.secret, protocol: 'imap' })).status).toBe(200);
    clock.advance(1000);
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: noGrace.body.secret, protocol: 'imap' })).status).toBe(401);
    expect((await verify(server, seed.verifier, { username: seed.loginAddress, password: graced.body.secret, protocol: 'imap' })).status).toBe(200);
    // Rotating a revoked credential is refused.
    const again = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${noGrace.body.id}/rotate`, { token: seed.bearer, body: {} });
    expect(again.status).toBe(409);
  });

  it('allowed client networks are enforced', async () => {
    const created = await create({
      name: 'offices',
      scopes: ['smtp'],
      login_id: seed.loginId,
      allowed_networks: ['10.1.0.0/16', '192.0.2.0/24', '2001:db8::/32'],
    });
    const base = { username: seed.loginAddress, password: created.body.secret, protocol: 'smtp' };
    // Every network of the list is read, not only the first.
    for (const inside of ['10.1.2.3', '192.0.2.77', '2001:db8::25'])
      expect((await verify(server, seed.verifier, { ...base, client_ip: inside })).status).toBe(200);
    for (const outside of ['10.2.0.1', '198.51.100.1', '2001:db9::1'])
      expect((await verify(server, seed.verifier, { ...base, client_ip: outside })).status).toBe(401);
    expect((await verify(server, seed.verifier, base)).status).toBe(401);
  });

  it('every change is audited and the chain verifies, then detects tampering', async () => {
    const events = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?per_page=200`, { token: seed.bearer });
    const names = new Set((events.body.data as { event: string }[]).map((e) => e.event));
    for (const name of [
      'tenant.created',
      'login.created',
      'token.created',
      'credential.created',
      'credential.held',
      'credential.unheld',
      'credential.revoked',
      'credential.rotated',
    ]) {
      expect(names).toContain(name);
    }
    const filtered = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=credential.held&per_page=5`, { token: seed.bearer });
    expect(filtered.body.data.every((e: { event: string }) => e.event === 'credential.held')).toBe(true);

    const clean = await server.cli(['audit', 'verify']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/audit ok/);

    const [victim] = await server.sql<{ id: string }>("SELECT id FROM audit_events WHERE event = 'credential.revoked' AND tenant_id = ?", [seed.tenantId]);
    await server.sql('UPDATE audit_events SET details = \'{"name":"edited"}\' WHERE id = ?', [victim?.id]);
    const tampered = await server.cli(['audit', 'verify']);
    expect(tampered.code).not.toBe(0);
    expect(tampered.stdout).toContain(victim?.id);
  });
});
