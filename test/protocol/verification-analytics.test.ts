// Verification analytics per tenant and per credential: outcomes by reason, per minute, and the
// most refused clients with why; a tenant sees its own keys and unknown keys tried on its own
// domains, never another tenant's. Real HTTP, both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('verification analytics on %s', (dialect) => {
  let server: TestServer;
  let a: SeededTenant;
  let b: SeededTenant;
  const ids: Record<string, string> = {};
  const secrets: Record<string, string> = {};

  const create = async (seed: SeededTenant, name: string, extra: Record<string, unknown> = {}) => {
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.adminToken,
      body: { name, login_id: seed.loginId, scopes: ['smtp'], ...extra },
    });
    expect(created.status, created.text).toBe(201);
    ids[name] = created.body.id;
    secrets[name] = created.body.secret;
  };
  const attempt = (seed: SeededTenant, password: string, clientIp: string, protocol = 'smtp', username = seed.loginAddress) =>
    verify(server, seed.verifier, { username, password, protocol, client_ip: clientIp });
  const stats = (seed: SeededTenant, path = '', token = seed.adminToken, minutes = 60) =>
    call(server, 'GET', `/api/v1/tenants/${seed.tenantId}${path}/stats/verifications?minutes=${minutes}`, { token });

  beforeAll(async () => {
    server = await startTestServer(dialect);
    a = await seedTenant(server, 'Analytica');
    b = await seedTenant(server, 'Analyticb');
    await create(a, 'main');
    await create(a, 'held');
    await create(a, 'fenced', { allowed_networks: ['192.0.2.0/24'] });
    await create(b, 'other');
    expect((await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/credentials/${ids.held}/hold`, { token: a.adminToken })).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await attempt(a, secrets.main as string, '198.51.100.1')).status).toBe(200);
    for (let i = 0; i < 2; i += 1) expect((await attempt(a, secrets.main as string, '198.51.100.2', 'imap')).status).toBe(401);
    expect((await attempt(a, secrets.held as string, '198.51.100.3')).status).toBe(401);
    expect((await attempt(a, secrets.fenced as string, '198.51.100.4')).status).toBe(401);
    // Wrong passwords for A's mailbox (no such key): counted for A by the user name's domain.
    for (let i = 0; i < 4; i += 1) expect((await attempt(a, 'rk_not_a_key_at_all', '203.0.113.50')).status).toBe(401);
    // B's traffic, and a wrong password on B's domain: never in A's numbers.
    for (let i = 0; i < 2; i += 1) expect((await attempt(b, secrets.other as string, '198.51.100.1')).status).toBe(200);
    expect((await attempt(b, 'rk_not_a_key_at_all', '203.0.113.99')).status).toBe(401);
  }, 120_000);
  afterAll(async () => server?.close());

  it("a tenant's outcomes by reason, per minute, and its most refused clients with why", async () => {
    const answer = await stats(a);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.minutes).toBe(60);
    expect(answer.body.outcomes).toEqual({ valid: 3, unknown_key: 4, wrong_user: 0, scope: 2, network: 1, held: 1, revoked: 0, expired: 0, throttled: 0 });
    expect(answer.body.series).toHaveLength(60);
    const summed = answer.body.series.reduce(
      (t: { valid: number; refused: number }, p: { valid: number; refused: number }) => ({ valid: t.valid + p.valid, refused: t.refused + p.refused }),
      {
        valid: 0,
        refused: 0,
      },
    );
    expect(summed).toEqual({ valid: 3, refused: 8 });
    expect(answer.body.top_refused_clients[0]).toEqual({ ip: '203.0.113.50', refused: 4, reasons: [{ outcome: 'unknown_key', count: 4 }] });
    expect(answer.body.top_refused_clients[1]).toEqual({ ip: '198.51.100.2', refused: 2, reasons: [{ outcome: 'scope', count: 2 }] });
    const ips = answer.body.top_refused_clients.map((c: { ip: string }) => c.ip);
    expect(ips).not.toContain('203.0.113.99');
    expect(ips).not.toContain('198.51.100.1');
    const other = await stats(b);
    expect(other.body.outcomes).toMatchObject({ valid: 2, unknown_key: 1, scope: 0 });
  });

  it("one credential's outcomes; a one-minute range", async () => {
    const main = await stats(a, `/credentials/${ids.main}`);
    expect(main.status, main.text).toBe(200);
    expect(main.body.outcomes).toMatchObject({ valid: 3, scope: 2, unknown_key: 0, held: 0 });
    expect(main.body.top_refused_clients).toEqual([{ ip: '198.51.100.2', refused: 2, reasons: [{ outcome: 'scope', count: 2 }] }]);
    const fenced = await stats(a, `/credentials/${ids.fenced}`);
    expect(fenced.body.outcomes).toMatchObject({ valid: 0, network: 1 });
    const recent = await stats(a, '', a.adminToken, 1);
    expect(recent.body.series).toHaveLength(1);
  });

  it("a tenant's own tokens read its numbers only; bad ranges and foreign ids are refused", async () => {
    expect((await stats(a, '', a.bearer)).status).toBe(200);
    expect((await stats(b, '', a.bearer)).status).toBe(404);
    expect((await stats(a, `/credentials/${ids.other}`)).status).toBe(404);
    expect((await stats(a, '', a.server)).status).toBe(403);
    expect((await stats(a, '', a.verifier)).status).toBe(403);
    for (const minutes of [0, 1441]) {
      const bad = await stats(a, '', a.adminToken, minutes);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});
