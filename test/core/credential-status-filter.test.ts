// GET .../credentials?status= filters by the status the API presents: active (not revoked),
// held, expired (not revoked and past its expiry: expired wins over held) and revoked; anything
// else is a 400 naming the parameter. The console's status filter uses these.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('credential list status filter on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'Filter');
    const create = async (name: string) => {
      const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { token: seed.bearer, body: { name, scopes: ['smtp'] } });
      expect(created.status, created.text).toBe(201);
      ids[name] = created.body.id;
    };
    for (const name of ['live', 'held', 'expired', 'held-and-expired', 'revoked']) await create(name);
    const path = (name: string, action: string) => `/api/v1/tenants/${seed.tenantId}/credentials/${ids[name]}/${action}`;
    expect((await call(server, 'POST', path('held', 'hold'), { token: seed.bearer })).status).toBe(200);
    expect((await call(server, 'POST', path('held-and-expired', 'hold'), { token: seed.bearer })).status).toBe(200);
    expect((await call(server, 'POST', path('revoked', 'revoke'), { token: seed.bearer, body: { reason: 'test' } })).status).toBe(200);
    // An expiry in the past cannot be set over the API: age two keys in the database.
    for (const name of ['expired', 'held-and-expired']) {
      await server.sql('UPDATE credentials SET expires_at = ? WHERE id = ?', ['2001-01-01T00:00:00.000Z', ids[name]]);
    }
  });
  afterAll(async () => server?.close());

  const names = async (status: string) => {
    const listed = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials?per_page=100&status=${status}`, { token: seed.adminToken });
    expect(listed.status, listed.text).toBe(200);
    const ours = listed.body.data.filter((c: { id: string }) => Object.values(ids).includes(c.id));
    for (const c of ours) if (status !== 'active') expect(c.status).toBe(status);
    return ours.map((c: { name: string }) => c.name).sort();
  };

  it('filters by held, expired, revoked and not revoked', async () => {
    expect(await names('held')).toEqual(['held']);
    expect(await names('expired')).toEqual(['expired', 'held-and-expired']);
    expect(await names('revoked')).toEqual(['revoked']);
    expect(await names('active')).toEqual(['expired', 'held', 'held-and-expired', 'live']);
  });

  it('refuses an unknown status with a 400 naming it', async () => {
    const listed = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials?status=paused`, { token: seed.adminToken });
    expect(listed.status).toBe(400);
    expect(listed.body.error.message).toMatch(/status/);
  });
});
