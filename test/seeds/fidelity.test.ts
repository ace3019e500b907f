// Seed fidelity, second pass (issue 24): what a client written against each seed's original
// product expects and relaykey did not do. One test per point of the issue, on both dialects.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, ManualClock, MINUTE } from '../../src/clock.js';
import { revokeInactiveCredentials } from '../../src/jobs/inactivity-revocation.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { reauth, vaultPath } from '../vault/helpers.js';
import { ISO_SECONDS } from './helpers.js';

const SEED002 = '/api/smtp-credentials';
const SEED003 = '/api/v1/account/api_key';

describe.each(DIALECTS)('seed fidelity on %s', (dialect) => {
  // Milliseconds on the clock: a timestamp that keeps them shows it.
  const clock = new ManualClock('2026-04-03T15:00:00.123Z');
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server, 'Fidelity');
    other = await seedTenant(server, 'Elsewhere');
  });
  afterAll(async () => server?.close());
  // A fresh seed 002 rate-limit window for every test.
  beforeEach(() => clock.advance(MINUTE + 1000));

  /** Another tenant over HTTP with the first admin (faster than seedTenant's CLI admin). */
  let tenants = 0;
  async function newTenant(name: string): Promise<{ tenantId: string; server: string; bearer: string; loginBearer: string; adminToken: string }> {
    tenants += 1;
    const domain = `${name.toLowerCase()}${tenants}.fidelity.test`;
    const admin = { token: seed.adminToken };
    const tenant = await call(server, 'POST', '/api/v1/tenants', { ...admin, body: { name, domain } });
    expect(tenant.status, tenant.text).toBe(201);
    const tenantId = tenant.body.id as string;
    const login = await call(server, 'POST', `/api/v1/tenants/${tenantId}/logins`, { ...admin, body: { address: `alice@${domain}` } });
    const token = async (body: Record<string, unknown>) =>
      (await call(server, 'POST', `/api/v1/tenants/${tenantId}/tokens`, { ...admin, body })).body.token as string;
    return {
      tenantId,
      adminToken: seed.adminToken,
      server: await token({ kind: 'server' }),
      bearer: await token({ kind: 'bearer' }),
      loginBearer: await token({ kind: 'bearer', login_id: login.body.id }),
    };
  }
  const check = (password: string, protocol: string, username = seed.loginAddress, extra: Record<string, unknown> = {}) =>
    verify(server, seed.verifier, { username, password, protocol, ...extra });
  const seed001 = (operation: string, body?: unknown, tenant: { server: string } = seed) =>
    call(server, 'POST', `/api/v1/credentials/${operation}`, { headers: { 'x-server-api-key': tenant.server }, body });

  it('1. seed 002 `app` is full application access: mail protocols and the REST API; mobile keys get ["app"] and may send deviceName', async () => {
    const app = await call(server, 'POST', SEED002, { token: seed.loginBearer, body: { name: 'Desktop client', scopes: ['app'] } });
    expect(app.status, app.text).toBe(201);
    for (const protocol of ['smtp', 'imap', 'pop3', 'api:read', 'api:write']) {
      expect((await check(app.body.apiKey, protocol)).status, protocol).toBe(200);
    }

    const mobile = await call(server, 'POST', `${SEED002}/mobile`, {
      token: seed.loginBearer,
      body: { deviceName: 'iPhone 15', platform: 'ios', deviceId: 'device-identifier' },
    });
    expect(mobile.status, mobile.text).toBe(201);
    expect(mobile.body).toMatchObject({ name: 'iPhone 15', scopes: ['app'] });
    expect((await check(mobile.body.apiKey, 'api:write')).status).toBe(200);
    // `name` wins when both are sent; neither is a 400 naming the field.
    const both = await call(server, 'POST', `${SEED002}/mobile`, {
      token: seed.loginBearer,
      body: { name: 'Named', deviceName: 'Device', platform: 'android', deviceId: 'd2' },
    });
    expect(both.body.name).toBe('Named');
    const neither = await call(server, 'POST', `${SEED002}/mobile`, { token: seed.loginBearer, body: { platform: 'ios', deviceId: 'd3' } });
    expect(neither.status).toBe(400);
    expect(neither.body.error.message).toMatch(/name/);
  });

  it('2. API use of a key needs no user name: an empty username verifies any kind whose scopes allow the API, and names its login', async () => {
    const rest = await call(server, 'POST', SEED002, { token: seed.loginBearer, body: { name: 'REST', scopes: ['api:read'] } });
    const key003 = await call(server, 'POST', SEED003, { token: seed.loginBearer, body: { name: 'IaC', role: 'iac' } });
    const api001 = await seed001('create', { name: 'API', type: 'API' });
    const native = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'bound', scopes: ['api:write'], login_id: seed.loginId },
    });
    const mailOnly = await call(server, 'POST', SEED002, { token: seed.loginBearer, body: { name: 'Mail', scopes: ['smtp'] } });

    const restAnswer = await check(rest.body.apiKey, 'api:read', '');
    expect(restAnswer.status).toBe(200);
    expect(restAnswer.body).toMatchObject({ valid: true, tenant_id: seed.tenantId, credential_id: rest.body.id, login: seed.loginAddress });
    const answer003 = await check(key003.body.Secret, 'api:write', '');
    expect(answer003.status).toBe(200);
    expect(answer003.body.login).toBe(seed.loginAddress);
    expect((await check(api001.body.data.key, 'api:read', '')).status).toBe(200);
    const nativeAnswer = await check(native.body.secret, 'api:write', '');
    expect(nativeAnswer.status).toBe(200);
    expect(nativeAnswer.body.login).toBe(seed.loginAddress);

    // Scopes still decide, and mail protocols still need the user name.
    expect((await check(rest.body.apiKey, 'api:write', '')).status).toBe(401);
    expect((await check(mailOnly.body.apiKey, 'api:read', '')).status).toBe(401);
    expect((await check(rest.body.apiKey, 'smtp', '')).status).toBe(401);
    expect((await check(mailOnly.body.apiKey, 'smtp', '')).status).toBe(401);
    // A named user that is not the key's login is still refused.
    expect((await check(rest.body.apiKey, 'api:read', `bob@${seed.loginAddress.split('@')[1]}`)).status).toBe(401);
  });

  it('4. seed 001 regenerate of a held credential answers a key that logs in; the old one is revoked', async () => {
    const held = await seed001('create', { name: 'Leaked', hold: true });
    expect(held.body.data.hold).toBe(true);
    const regenerated = await seed001('regenerate', { uuid: held.body.data.uuid });
    expect(regenerated.status, regenerated.text).toBe(200);
    expect((await check(regenerated.body.data.key, 'smtp', 'anyone')).status).toBe(200);
    expect((await check(held.body.data.key, 'smtp', 'anyone')).status).toBe(401);
    const list = await seed001('list');
    expect(list.body.data.find((c: { uuid: string }) => c.uuid === regenerated.body.data.new_uuid)).toMatchObject({ hold: false });
    expect(list.body.data.find((c: { uuid: string }) => c.uuid === held.body.data.uuid)).toBeUndefined();
  });

  it('5. seed 003 accepts the header its document names, `Authentication: Bearer {access_token}`', async () => {
    const headers = { authentication: `Bearer ${seed.bearer}` };
    const created = await call(server, 'POST', SEED003, { headers, body: { name: 'Via Authentication', role: 'standard' } });
    expect(created.status, created.text).toBe(201);
    const listed = await call(server, 'GET', SEED003, { headers });
    expect(listed.status).toBe(200);
    expect(listed.body.map((k: { id: string }) => k.id)).toContain(created.body.ID);
    expect((await call(server, 'GET', `${SEED003}/${created.body.ID}`, { headers })).status).toBe(200);
    expect((await call(server, 'PUT', `${SEED003}/${created.body.ID}/revoke`, { headers })).status).toBe(200);
    // A wrong token is refused the same way through either header.
    expect((await call(server, 'GET', SEED003, { headers: { authentication: 'Bearer rk_nope' } })).status).toBe(401);
    expect((await call(server, 'GET', SEED003, { headers: { authentication: `Bearer ${other.server}` } })).status).toBe(403);
  });

  it('6. seed 003 sessions: no user agent is device Other / Unknown; a revoked key’s sessions are inactive at once', async () => {
    const created = await call(server, 'POST', SEED003, { token: seed.bearer, body: { name: 'Sessions', role: 'standard' } });
    expect((await check(created.body.Secret, 'imap', created.body.Key, { client_ip: '22.2.3.28', user_agent: '' })).status).toBe(200);
    await server.runtime.services.usage.flush();
    const before = await call(server, 'GET', `${SEED003}/${created.body.ID}/sessions`, { token: seed.bearer });
    expect(before.body).toHaveLength(1);
    expect(before.body[0]).toMatchObject({ raw_user_agent: '', user_agent_family: '', device_family: 'Other', device_type: 'Unknown', is_active: true });

    expect((await call(server, 'PUT', `${SEED003}/${created.body.ID}/revoke`, { token: seed.bearer })).status).toBe(200);
    const after = await call(server, 'GET', `${SEED003}/${created.body.ID}/sessions`, { token: seed.bearer });
    expect(after.body[0]).toMatchObject({ ip_address: '22.2.3.28', is_active: false });
    const native = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/${created.body.ID}/sessions`, { token: seed.bearer });
    expect(native.body.data[0]).toMatchObject({ active: false });
  });

  it('7. seed 000: times to the second, rotate with no body or {}, audit ?page= and ?per_page= (1-100)', async () => {
    const admin = { token: seed.adminToken };
    const revealed = await call(server, 'GET', vaultPath(seed.tenantId), { ...admin, headers: { 'x-reauth-token': await reauth(server, seed) } });
    expect(revealed.status, revealed.text).toBe(200);
    for (const field of ['created_at', 'last_rotated', 'next_rotation', 'expires_at']) expect(revealed.body[field], field).toMatch(ISO_SECONDS);

    const raw = (headers: Record<string, string>, body?: string) =>
      fetch(`${server.url}${vaultPath(seed.tenantId, '/rotate')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seed.adminToken}`, ...headers },
        ...(body !== undefined ? { body } : {}),
      });
    for (const [headers, body] of [
      [{}, undefined],
      [{ 'content-type': 'application/json' }, ''],
      [{ 'content-type': 'application/json' }, '{}'],
    ] as const) {
      const rotated = await raw(headers, body);
      expect(rotated.status, await rotated.clone().text()).toBe(200);
      const answer = (await rotated.json()) as Record<string, unknown>;
      expect(answer.rotated_at).toMatch(ISO_SECONDS);
      expect(answer.next_rotation).toMatch(ISO_SECONDS);
    }
    expect((await raw({ 'content-type': 'application/json' }, '{"reason": ""}')).status).toBe(400);

    const reset = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      ...admin,
      headers: { 'x-reauth-token': await reauth(server, seed) },
      body: { incident_id: 'INC-24', reason: 'fidelity' },
    });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.expires_at).toMatch(ISO_SECONDS);

    const audit = await call(server, 'GET', `${vaultPath(seed.tenantId, '/audit')}?page=1&per_page=2`, admin);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body).toMatchObject({ page: 1, per_page: 2 });
    expect(audit.body.events).toHaveLength(2);
    expect(audit.body.total).toBeGreaterThanOrEqual(5);
    for (const event of audit.body.events) expect(event.timestamp).toMatch(ISO_SECONDS);
    const manual = (await call(server, 'GET', `${vaultPath(seed.tenantId, '/audit')}?per_page=100`, admin)).body.events.filter(
      (e: { event: string; details?: { rotation_type?: string } }) => e.event === 'smtp_credentials_rotated' && e.details?.rotation_type === 'manual',
    );
    expect(manual).toHaveLength(3);
    for (const event of manual) expect(event.details).toMatchObject({ reason: null });
    const second = await call(server, 'GET', `${vaultPath(seed.tenantId, '/audit')}?page=2&per_page=2`, admin);
    expect(second.body.events[0].id).not.toBe(audit.body.events[0].id);
    for (const bad of ['per_page=0', 'per_page=101', 'per_page=x', 'page=0']) {
      const refused = await call(server, 'GET', `${vaultPath(seed.tenantId, '/audit')}?${bad}`, admin);
      expect(refused.status, bad).toBe(400);
    }
  });

  it('8. seed 001 integer ids are numbered per tenant: another tenant’s credentials do not move them, and they stay put', async () => {
    const a = await newTenant('Numbers');
    const b = await newTenant('Counted');
    const firstA = await seed001('create', { name: 'first' }, a);
    const firstB = await seed001('create', { name: 'first' }, b);
    expect(firstB.body.data.id).toBe(firstA.body.data.id);
    for (let i = 0; i < 3; i++) await seed001('create', { name: `more ${i}` }, a);
    const secondB = await seed001('create', { name: 'second' }, b);
    expect(secondB.body.data.id).toBe(firstB.body.data.id + 1);
    // Small numbers: the tenant's own count, not the platform's.
    expect(secondB.body.data.id).toBeLessThanOrEqual(3);
    const regenerated = await seed001('regenerate', { uuid: secondB.body.data.uuid }, b);
    expect(regenerated.body.data).toMatchObject({ old_id: secondB.body.data.id, new_id: secondB.body.data.id + 1 });
    const list = await seed001('list', undefined, b);
    expect(list.body.data.map((c: { id: number; uuid: string }) => [c.id, c.uuid])).toEqual([
      [firstB.body.data.id, firstB.body.data.uuid],
      [regenerated.body.data.new_id, regenerated.body.data.new_uuid],
    ]);
    const revoked = await seed001('revoke', { uuid: firstB.body.data.uuid }, b);
    expect(revoked.body.data.id).toBe(firstB.body.data.id);
  });
  // Last: it moves the clock 91 days on (admin sessions of earlier tests expire).
  it('3. the 90-day inactivity rule is seed 003’s: seed 001 and 002 keys stay, native ones only where the tenant sets a period', async () => {
    const tenant = await newTenant('Idle');
    const held001 = await seed001('create', { name: 'Idle relay' }, tenant);
    const key002 = await call(server, 'POST', SEED002, { token: tenant.loginBearer, body: { name: 'Idle client', scopes: ['smtp'] } });
    const key003 = await call(server, 'POST', SEED003, { token: tenant.bearer, body: { name: 'Idle IaC', role: 'iac' } });
    const nativeKey = await call(server, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, {
      token: tenant.bearer,
      body: { name: 'n', scopes: ['smtp'] },
    });
    const strict = await newTenant('Strict');
    const periodSet = await call(server, 'PATCH', `/api/v1/tenants/${strict.tenantId}`, {
      token: strict.adminToken,
      body: { settings: { inactivity_days: 90 } },
    });
    expect(periodSet.status, periodSet.text).toBe(200);
    const strictNative = await call(server, 'POST', `/api/v1/tenants/${strict.tenantId}/credentials`, {
      token: strict.bearer,
      body: { name: 'n', scopes: ['smtp'] },
    });

    clock.advance(91 * DAY);
    await revokeInactiveCredentials(server.runtime);
    const status = async (id: string) => (await server.sql<{ status: string }>('SELECT status FROM credentials WHERE id = ?', [id]))[0]?.status;
    expect(await status(key003.body.ID)).toBe('revoked');
    expect(await status(strictNative.body.id)).toBe('revoked');
    expect(await status(held001.body.data.uuid)).toBe('active');
    expect(await status(key002.body.id)).toBe('active');
    expect(await status(nativeKey.body.id)).toBe('active');
    const list = await seed001('list', undefined, tenant);
    expect(list.body.data.map((c: { uuid: string }) => c.uuid)).toContain(held001.body.data.uuid);
  });
});
