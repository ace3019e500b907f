// The two admin endpoints the console added: chain verification and the platform audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('console audit endpoints on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  it('verifies every chain or one tenant chain for admins', async () => {
    const all = await call(server, 'GET', '/api/v1/audit/verify', { token: seed.adminToken });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ ok: true, problems: [] });
    expect(all.body.chains).toBeGreaterThanOrEqual(2);
    const one = await call(server, 'GET', `/api/v1/audit/verify?tenant_id=${seed.tenantId}`, { token: seed.adminToken });
    expect(one.body).toMatchObject({ ok: true, chains: 1 });
    expect(one.body.events).toBeGreaterThan(0);
  });

  it('reports a tampered event by id', async () => {
    const events = await server.sql<{ id: string }>('SELECT id FROM audit_events WHERE tenant_id = ? ORDER BY seq LIMIT 1', [seed.tenantId]);
    const tampered = events[0]?.id as string;
    await server.sql("UPDATE audit_events SET event = 'tenant.renamed' WHERE id = ?", [tampered]);
    const result = await call(server, 'GET', `/api/v1/audit/verify?tenant_id=${seed.tenantId}`, { token: seed.adminToken });
    expect(result.status).toBe(200);
    expect(result.body.ok).toBe(false);
    expect(result.body.problems[0]).toMatchObject({ chain: seed.tenantId, event_id: tampered });
    expect(result.body.problems[0].problem).toMatch(/changed/);
  });

  it('refuses tokens that are not an admin session and names bad input', async () => {
    for (const token of [seed.bearer, seed.server, seed.verifier]) {
      expect((await call(server, 'GET', '/api/v1/audit/verify', { token })).status).toBe(403);
      expect((await call(server, 'GET', '/api/v1/audit-events', { token })).status).toBe(403);
    }
    expect((await call(server, 'GET', '/api/v1/audit/verify')).status).toBe(401);
    const missing = await call(server, 'GET', '/api/v1/audit/verify?tenant_id=00000000-0000-4000-8000-000000000000', { token: seed.adminToken });
    expect(missing.status).toBe(404);
    const bad = await call(server, 'GET', '/api/v1/audit/verify?tenant_id=nope', { token: seed.adminToken });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('lists the platform trail (admin sign-ins, failures) with the same filters as a tenant trail', async () => {
    await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: 'definitely wrong' } });
    const all = await call(server, 'GET', '/api/v1/audit-events', { token: seed.adminToken });
    expect(all.status).toBe(200);
    const names = all.body.data.map((e: { event: string }) => e.event);
    expect(names).toEqual(expect.arrayContaining(['admin.created', 'admin.login', 'admin.login_failed']));
    expect(all.body.data.every((e: { tenant_id: string | null }) => e.tenant_id === null)).toBe(true);
    const failed = await call(server, 'GET', '/api/v1/audit-events?event=admin.login_failed&severity=warning', { token: seed.adminToken });
    expect(failed.body.data.length).toBeGreaterThan(0);
    expect(failed.body.data.every((e: { event: string }) => e.event === 'admin.login_failed')).toBe(true);
    // A tenant's trail still holds only that tenant's events.
    const tenant = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events`, { token: seed.adminToken });
    expect(tenant.body.data.every((e: { tenant_id: string }) => e.tenant_id === seed.tenantId)).toBe(true);
  });
});
