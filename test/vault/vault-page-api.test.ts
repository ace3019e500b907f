// The vault page's API: open checkouts (and ending one early, which rotates the password at once),
// and the root key's status, for platform admins only, on both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { auditTrail, reauth, revealPassword, smtpVerifies } from './helpers.js';

describe.each(DIALECTS)('vault checkouts and root key status on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'CheckoutOne');
    other = await seedTenant(server, 'CheckoutTwo');
  });
  afterAll(async () => server?.close());

  const checkouts = (token = seed.adminToken) => call(server, 'GET', '/api/v1/vault/checkouts', { token });
  const status = (tenantId: string, token = seed.adminToken) => call(server, 'GET', `/api/v1/tenants/${tenantId}/smtp-account`, { token });
  const end = (tenantId: string, token = seed.adminToken) => call(server, 'DELETE', `/api/v1/tenants/${tenantId}/smtp-account/checkout`, { token });

  it('lists an open checkout with who holds it, and never the password', async () => {
    const mine = (await checkouts()).body.data.filter((c: { tenant_id: string }) => c.tenant_id === seed.tenantId || c.tenant_id === other.tenantId);
    expect(mine).toEqual([]);
    const password = await revealPassword(server, seed, await reauth(server, seed));
    const listed = await checkouts();
    expect(listed.status, listed.text).toBe(200);
    const row = listed.body.data.find((c: { tenant_id: string }) => c.tenant_id === seed.tenantId);
    expect(row).toMatchObject({ tenant_name: 'CheckoutOne', username: seed.smtpUsername, checked_out_by_email: seed.adminEmail });
    expect(new Date(row.expires_at).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(listed.text).not.toContain(password);
    expect(listed.body.data.some((c: { tenant_id: string }) => c.tenant_id === other.tenantId)).toBe(false);
  });

  it('ends a checkout now: the revealed password stops working at once, audited as a rotation', async () => {
    const password = await revealPassword(server, seed, await reauth(server, seed));
    expect(await smtpVerifies(server, seed, password)).toBe(true);
    const during = await status(seed.tenantId);
    expect(during.status, during.text).toBe(200);
    expect(during.body).toMatchObject({ username: seed.smtpUsername, checkout: { checked_out_by_email: seed.adminEmail } });
    expect(during.text).not.toContain(password);
    const ended = await end(seed.tenantId);
    expect(ended.status, ended.text).toBe(200);
    expect(ended.body.ended).toBe(true);
    const after = await status(seed.tenantId);
    expect(after.body).toMatchObject({ checkout: null, last_rotated: ended.body.rotated_at, next_rotation: ended.body.next_rotation });
    await expect.poll(() => smtpVerifies(server, seed, password), { timeout: 5_000 }).toBe(false);
    expect((await checkouts()).body.data.some((c: { tenant_id: string }) => c.tenant_id === seed.tenantId)).toBe(false);
    const events = (await auditTrail(server, seed)).body.events;
    expect(events[0]).toMatchObject({ event: 'smtp_credentials_rotated', severity: 'warning', details: { rotation_type: 'checkout_ended' } });
    expect(JSON.stringify(events)).not.toContain(password);
    // Nothing open any more: refused, nothing changed.
    const before = (await auditTrail(server, seed)).body.total;
    const again = await end(seed.tenantId);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE');
    expect((await auditTrail(server, seed)).body.total).toBe(before);
    expect((await end('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await end('not-a-uuid')).status).toBe(400);
  });

  it('reports the root key status as `keys status` does, without the key', async () => {
    const status = await call(server, 'GET', '/api/v1/vault/root-key', { token: seed.adminToken });
    expect(status.status, status.text).toBe(200);
    expect(status.body).toMatchObject({ master_key: 'match', current_version: 1, known_versions: [1], data_keys_not_current: 0 });
    expect(status.body.key_check).toMatch(/^[0-9a-f]{16}$/);
    const stored = await server.sql<{ value: string }>("SELECT value FROM instance_facts WHERE name = 'master_key_check'");
    expect(status.body.key_check).toBe(stored[0]?.value);
    const keys = await server.sql<{ n: number | string }>('SELECT COUNT(*) AS n FROM tenant_data_keys WHERE root_key_version = 1');
    expect(status.body.data_keys_by_version).toEqual([{ version: 1, count: Number(keys[0]?.n) }]);
    expect(['key_file', 'environment']).toContain(status.body.source);
  });

  it('is for platform admins only', async () => {
    for (const token of [seed.bearer, seed.server, seed.verifier]) {
      expect((await checkouts(token)).status).toBe(403);
      expect((await call(server, 'GET', '/api/v1/vault/root-key', { token })).status).toBe(403);
    }
    expect((await end(seed.tenantId, seed.bearer)).status).toBe(403);
    expect((await status(seed.tenantId, seed.bearer)).status).toBe(403);
    expect((await status(other.tenantId, seed.bearer)).status).toBe(404);
    expect((await end(other.tenantId, seed.bearer)).status).toBe(404);
    expect((await call(server, 'GET', '/api/v1/vault/root-key')).status).toBe(401);
  });
});
