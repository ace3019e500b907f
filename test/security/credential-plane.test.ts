// The credential plane seen from a login-bound bearer token: it reads only the events about its
// own login and credentials, and may narrow, hold or revoke its credentials but never widen
// their scopes, networks or expiry, nor release a hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('login-bound bearer on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let mine: string;
  let theirs: string;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Bound');
    const base = `/api/v1/tenants/${seed.tenantId}/credentials`;
    mine = (
      await call(server, 'POST', base, {
        token: seed.adminToken,
        body: {
          name: 'alice phone',
          login_id: seed.loginId,
          scopes: ['smtp', 'imap'],
          allowed_networks: ['10.0.0.0/8', '192.0.2.0/24'],
          expires_at: '2031-01-01T00:00:00Z',
        },
      })
    ).body.id;
    theirs = (await call(server, 'POST', base, { token: seed.adminToken, body: { name: 'tenant-wide relay', scopes: ['smtp'] } })).body.id;
    await call(server, 'POST', `${base}/${theirs}/hold`, { token: seed.adminToken });
  });
  afterAll(async () => server?.close());

  it("sees only its own login's events in the tenant audit trail", async () => {
    const all = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?per_page=200`, { token: seed.bearer });
    expect(all.body.data.some((e: { target: { id: string } | null }) => e.target?.id === theirs)).toBe(true);
    const bound = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?per_page=200`, { token: seed.loginBearer });
    expect(bound.status).toBe(200);
    const targets = new Set(bound.body.data.map((e: { target: { id: string } | null }) => e.target?.id));
    expect(targets.has(mine)).toBe(true);
    expect(targets.has(theirs)).toBe(false);
    expect(bound.body.pagination.total).toBeLessThan(all.body.pagination.total);
    for (const event of bound.body.data) expect([mine, seed.loginId]).toContain(event.target?.id);
    const filtered = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?target=${theirs}`, { token: seed.loginBearer });
    expect(filtered.body.data).toEqual([]);
  });

  it('may narrow its credential but not widen scopes, networks or expiry; nothing is written on refusal', async () => {
    const path = `/api/v1/tenants/${seed.tenantId}/credentials/${mine}`;
    const before = (await call(server, 'GET', path, { token: seed.adminToken })).body;
    for (const body of [
      { scopes: ['smtp', 'imap', 'api:write'] },
      { allowed_networks: null },
      { allowed_networks: [] },
      { allowed_networks: ['0.0.0.0/0'] },
      { expires_at: null },
      { expires_at: '2035-01-01T00:00:00Z' },
    ]) {
      const response = await call(server, 'PATCH', path, { token: seed.loginBearer, body });
      expect(response.status, JSON.stringify(body)).toBe(403);
      expect(response.body.error.code).toBe('FORBIDDEN');
    }
    expect((await call(server, 'GET', path, { token: seed.adminToken })).body).toEqual(before);
    const narrowed = await call(server, 'PATCH', path, {
      token: seed.loginBearer,
      body: { scopes: ['smtp'], allowed_networks: ['192.0.2.0/24'], expires_at: '2030-01-01T00:00:00Z' },
    });
    expect(narrowed.status, narrowed.text).toBe(200);
    expect(narrowed.body.scopes).toEqual(['smtp']);
    // The tenant-wide bearer and admins may still widen.
    expect((await call(server, 'PATCH', path, { token: seed.bearer, body: { scopes: ['smtp', 'imap'] } })).status).toBe(200);
  });

  it('may hold and revoke its credential but not release a hold', async () => {
    const path = `/api/v1/tenants/${seed.tenantId}/credentials/${mine}`;
    expect((await call(server, 'POST', `${path}/hold`, { token: seed.loginBearer })).status).toBe(200);
    const release = await call(server, 'POST', `${path}/unhold`, { token: seed.loginBearer });
    expect(release.status).toBe(403);
    expect((await call(server, 'GET', path, { token: seed.adminToken })).body.held).toBe(true);
    expect((await call(server, 'POST', `${path}/revoke`, { token: seed.loginBearer, body: { reason: 'lost phone' } })).status).toBe(200);
  });
});

describe.each(DIALECTS)('ending a rotation grace period on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Grace');
  });
  afterAll(async () => server?.close());

  const base = () => `/api/v1/tenants/${seed.tenantId}/credentials`;
  const verifies = async (secret: string) =>
    (await call(server, 'POST', '/api/v1/verify', { token: seed.verifier, body: { username: seed.loginAddress, password: secret, protocol: 'smtp' } }))
      .status === 200;

  async function rotatedTwice() {
    const first = await call(server, 'POST', base(), { token: seed.adminToken, body: { name: 'relay', login_id: seed.loginId, scopes: ['smtp'] } });
    const second = await call(server, 'POST', `${base()}/${first.body.id}/rotate`, { token: seed.adminToken, body: { grace_period_seconds: 86_400 } });
    const third = await call(server, 'POST', `${base()}/${second.body.id}/rotate`, { token: seed.adminToken, body: { grace_period_seconds: 86_400 } });
    const secrets = [first.body.secret, second.body.secret, third.body.secret] as string[];
    for (const secret of secrets) expect(await verifies(secret)).toBe(true);
    return { ids: [first.body.id, second.body.id, third.body.id] as string[], secrets };
  }

  it('revoking the old end of a rotation ends every grace period of the chain at once', async () => {
    const { ids, secrets } = await rotatedTwice();
    const revoked = await call(server, 'POST', `${base()}/${ids[0]}/revoke`, { token: seed.adminToken, body: { reason: 'leaked' } });
    expect(revoked.status, revoked.text).toBe(200);
    expect(await verifies(secrets[0] as string)).toBe(false);
    expect(await verifies(secrets[1] as string)).toBe(false);
    expect(await verifies(secrets[2] as string)).toBe(true);
    // Nothing left to end: a second revoke is the usual 409.
    expect((await call(server, 'POST', `${base()}/${ids[0]}/revoke`, { token: seed.adminToken, body: { reason: 'again' } })).status).toBe(409);
  });

  it('revoking the successor ends the grace periods of its predecessors too', async () => {
    const { ids, secrets } = await rotatedTwice();
    expect((await call(server, 'POST', `${base()}/${ids[2]}/revoke`, { token: seed.adminToken, body: { reason: 'compromised' } })).status).toBe(200);
    for (const secret of secrets) expect(await verifies(secret)).toBe(false);
    const events = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=credential.grace_ended`, { token: seed.adminToken });
    expect(events.body.data.length).toBeGreaterThanOrEqual(2);
  });

  it('holding the old credential during its grace period ends it', async () => {
    const { ids, secrets } = await rotatedTwice();
    expect((await call(server, 'POST', `${base()}/${ids[1]}/hold`, { token: seed.adminToken })).status).toBe(200);
    expect(await verifies(secrets[0] as string)).toBe(false);
    expect(await verifies(secrets[1] as string)).toBe(false);
    expect(await verifies(secrets[2] as string)).toBe(true);
  });
});
