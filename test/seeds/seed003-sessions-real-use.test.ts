// Seed 003 sessions filled from REAL use: a Key + Secret login through POST /api/v1/verify from
// public IPs with real mail-client and browser user agents, usage flushed, then the seed 003 and
// the native session lists show the parsed client (ua-parser-js), the country (geoip-country) and
// unix-second times, and the key's last_accessed_at_utc is no longer 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const BASE = '/api/v1/account/api_key';
const THUNDERBIRD = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0';
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';

describe.each(DIALECTS)('seed 003 sessions from real use on %s', (dialect) => {
  const clock = new ManualClock('2026-02-01T00:00:00.000Z');
  const unix = () => Math.floor(clock.now().getTime() / 1000);
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    // The test flushes usage itself and checks that nothing is written before it does: the
    // periodic flush (2 s by default, real time) once fired in between on a slow CI run.
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off', RELAYKEY_USAGE_FLUSH_MS: '60000' } });
    seed = await seedTenant(server, 'Sessions');
  });
  afterAll(async () => server?.close());

  it('a Key + Secret login fills the documented session fields and last_accessed_at_utc', async () => {
    const created = await call(server, 'POST', BASE, { token: seed.bearer, body: { role: 'standard', name: 'Laptop and phone' } });
    expect(created.status).toBe(201);
    const { ID: id, Key: key, Secret: secret } = created.body as { ID: string; Key: string; Secret: string };
    const createdAt = unix();

    const before = await call(server, 'GET', `${BASE}/${id}`, { token: seed.bearer });
    expect(before.body.last_accessed_at_utc).toBe(0);

    clock.advance(MINUTE);
    const firstSeen = unix();
    const login = (ip: string, userAgent: string, protocol: string) =>
      verify(server, seed.verifier, { username: key, password: secret, protocol, client_ip: ip, user_agent: userAgent });
    expect((await login('81.2.69.142', THUNDERBIRD, 'imap')).status).toBe(200);
    expect((await login('8.8.8.8', IPHONE_SAFARI, 'smtp')).status).toBe(200);
    clock.advance(MINUTE);
    const lastSeen = unix();
    // The same client again: one session whose modified time moves.
    expect((await login('81.2.69.142', THUNDERBIRD, 'imap')).status).toBe(200);
    // A failed login leaves no session.
    const failed = await verify(server, seed.verifier, {
      username: key,
      password: `${secret}x`,
      protocol: 'smtp',
      client_ip: '1.1.1.1',
      user_agent: THUNDERBIRD,
    });
    expect(failed.status).toBe(401);

    // Nothing is written on the hot path; the batch goes out on flush.
    expect((await call(server, 'GET', `${BASE}/${id}/sessions`, { token: seed.bearer })).body).toEqual([]);
    await server.runtime.services.usage.flush();

    const key003 = await call(server, 'GET', `${BASE}/${id}`, { token: seed.bearer });
    expect(key003.status).toBe(200);
    expect(key003.body.last_accessed_at_utc).toBe(lastSeen);
    expect(key003.body.created_at_utc).toBe(createdAt);

    const sessions = await call(server, 'GET', `${BASE}/${id}/sessions`, { token: seed.bearer });
    expect(sessions.status).toBe(200);
    const byIp = new Map((sessions.body as Record<string, unknown>[]).map((s) => [s.ip_address, s]));
    expect([...byIp.keys()].sort()).toEqual(['8.8.8.8', '81.2.69.142']);
    expect(byIp.get('81.2.69.142')).toEqual({
      id: expect.any(String),
      account_id: seed.tenantId,
      ip_address: '81.2.69.142',
      raw_user_agent: THUNDERBIRD,
      user_agent_family: 'Thunderbird',
      user_agent_version: '115.6.0',
      user_agent_major_version: '115',
      os_family: 'Windows',
      os_version: '10',
      device_family: '',
      device_brand: '',
      device_type: '',
      country: 'United Kingdom',
      country_iso_code: 'GB',
      is_active: true,
      created_at_utc: firstSeen,
      modified_at_utc: lastSeen,
    });
    expect(byIp.get('8.8.8.8')).toEqual({
      id: expect.any(String),
      account_id: seed.tenantId,
      ip_address: '8.8.8.8',
      raw_user_agent: IPHONE_SAFARI,
      user_agent_family: 'Mobile Safari',
      user_agent_version: '17.2',
      user_agent_major_version: '17',
      os_family: 'iOS',
      os_version: '17.2',
      device_family: 'iPhone',
      device_brand: 'Apple',
      device_type: 'mobile',
      country: 'United States',
      country_iso_code: 'US',
      is_active: true,
      created_at_utc: firstSeen,
      modified_at_utc: firstSeen,
    });

    // The native view of the same rows.
    const native = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${id}/sessions`, { token: seed.bearer });
    expect(native.status).toBe(200);
    const nativeByIp = new Map((native.body.data as Record<string, unknown>[]).map((s) => [s.ip_address, s]));
    expect(nativeByIp.size).toBe(2);
    expect(nativeByIp.get('81.2.69.142')).toMatchObject({
      id: (byIp.get('81.2.69.142') as { id: string }).id,
      raw_user_agent: THUNDERBIRD,
      user_agent_family: 'Thunderbird',
      user_agent_version: '115.6.0',
      user_agent_major_version: '115',
      os_family: 'Windows',
      os_version: '10',
      country: 'United Kingdom',
      country_iso_code: 'GB',
      protocol: 'imap',
      active: true,
      first_seen_at: new Date(firstSeen * 1000).toISOString(),
      last_seen_at: new Date(lastSeen * 1000).toISOString(),
    });
    expect(nativeByIp.get('8.8.8.8')).toMatchObject({
      user_agent_family: 'Mobile Safari',
      os_family: 'iOS',
      device_family: 'iPhone',
      device_brand: 'Apple',
      device_type: 'mobile',
      country: 'United States',
      country_iso_code: 'US',
      protocol: 'smtp',
      active: true,
    });

    // Another tenant sees neither list.
    const other = await seedTenant(server, 'Other');
    expect((await call(server, 'GET', `${BASE}/${id}/sessions`, { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'GET', `/api/v1/tenants/${other.tenantId}/credentials/${id}/sessions`, { token: other.bearer })).status).toBe(404);
  });
});
