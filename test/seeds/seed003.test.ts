// Seed 003 (account API keys, Bearer) contract: every documented field, type, casing, status code
// and prefix; Key + Secret protocol login per role; sessions; revoke; isolation.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { type ApiResponse, call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { createLoginBearer, expectDocumented, expectNoChange } from './helpers.js';

const BASE = '/api/v1/account/api_key';
const KEY_FIELDS = ['account_id', 'created_at_utc', 'id', 'is_active', 'key', 'last_accessed_at_utc', 'modified_at_utc', 'name'];
const SESSION_FIELDS = [
  'id',
  'account_id',
  'ip_address',
  'raw_user_agent',
  'user_agent_family',
  'user_agent_version',
  'user_agent_major_version',
  'os_family',
  'os_version',
  'device_family',
  'device_brand',
  'device_type',
  'country',
  'country_iso_code',
  'is_active',
  'created_at_utc',
  'modified_at_utc',
];
const ALL_PROTOCOLS = ['smtp', 'imap', 'pop3', 'api:read', 'api:write'];
const ROLE_PROTOCOLS: Record<string, string[]> = {
  send_only: ['smtp', 'api:write'],
  read_only: ['imap', 'pop3', 'api:read'],
  standard: ['smtp', 'imap', 'pop3', 'api:read', 'api:write'],
  iac: ['api:read', 'api:write'],
};

describe.each(DIALECTS)('seed 003 account api keys on %s', (dialect) => {
  const clock = new ManualClock('2026-02-01T00:00:00.000Z');
  const unixNow = () => Math.floor(clock.now().getTime() / 1000);
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server, 'Account');
    other = await seedTenant(server, 'Other');
  });
  afterAll(async () => server?.close());

  const create = (body: unknown, token = seed.bearer) => call(server, 'POST', BASE, { token, body });
  const check = (username: string, password: string, protocol: string) => verify(server, seed.verifier, { username, password, protocol });

  function expectError(response: ApiResponse, status: number, pattern?: RegExp) {
    expect(response.status).toBe(status);
    expect(typeof response.body.error.message).toBe('string');
    if (pattern) expect(response.body.error.message).toMatch(pattern);
  }

  function expectKeyRecord(record: Record<string, unknown>) {
    expect(Object.keys(record).sort()).toEqual(KEY_FIELDS);
    expect(typeof record.id).toBe('string');
    expect(record.account_id).toBe(seed.tenantId);
    expect(typeof record.name).toBe('string');
    expect(record.key).toMatch(/^rkk_[0-9A-Za-z]{32}$/);
    expect(typeof record.is_active).toBe('boolean');
    for (const field of ['last_accessed_at_utc', 'created_at_utc', 'modified_at_utc']) expect(Number.isInteger(record[field])).toBe(true);
  }

  it('documents every operation in /openapi.json under the seed003 tag', async () => {
    await expectDocumented(server, 'seed003', [
      ['post', BASE],
      ['get', BASE],
      ['get', `${BASE}/{id}`],
      ['get', `${BASE}/{id}/sessions`],
      ['put', `${BASE}/{id}/revoke`],
    ]);
  });

  it('POST answers 201 {ID, Name, Key, Secret}; Key is public and stays visible, Secret only here', async () => {
    const created = await create({ role: 'standard', name: 'PROD - Datadog' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual(['ID', 'Name', 'Key', 'Secret']);
    expect(created.body.ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.Name).toBe('PROD - Datadog');
    expect(created.body.Key).toMatch(/^rkk_[0-9A-Za-z]{32}$/);
    expect(created.body.Secret).toMatch(/^rks_[0-9A-Za-z]{38}$/);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const [row] = await server.sql<{ public_key: string; role: string; surface: string }>('SELECT public_key, role, surface FROM credentials WHERE id = ?', [
      created.body.ID,
    ]);
    expect(row).toEqual({ public_key: created.body.Key, role: 'standard', surface: 'seed003' });

    const list = await call(server, 'GET', BASE, { token: seed.bearer });
    const got = await call(server, 'GET', `${BASE}/${created.body.ID}`, { token: seed.bearer });
    for (const response of [list, got]) {
      expect(response.status).toBe(200);
      expect(response.text).toContain(created.body.Key);
      expect(response.text).not.toContain(created.body.Secret);
    }
  });

  for (const [role, allowed] of Object.entries(ROLE_PROTOCOLS)) {
    it(`Key + Secret log in for the ${role} role's protocols only`, async () => {
      const created = await create({ role, name: `${role} key` });
      expect(created.status).toBe(201);
      for (const protocol of ALL_PROTOCOLS) {
        const outcome = await check(created.body.Key, created.body.Secret, protocol);
        expect(outcome.status, `${role} over ${protocol}`).toBe(allowed.includes(protocol) ? 200 : 401);
      }
      // The Key is the username: anything else fails, and so does the Key as a password.
      expect((await check(seed.loginAddress, created.body.Secret, allowed[0] as string)).status).toBe(401);
      expect((await check(created.body.ID, created.body.Secret, allowed[0] as string)).status).toBe(401);
      expect((await check(created.body.Key, created.body.Key, allowed[0] as string)).status).toBe(401);
    });
  }

  it('GET list and GET /:id show the documented fields in unix seconds; never accessed is 0', async () => {
    const createdAt = unixNow();
    const created = await create({ role: 'iac', name: 'Staging - AWS' });
    const expected = {
      id: created.body.ID,
      account_id: seed.tenantId,
      name: 'Staging - AWS',
      key: created.body.Key,
      is_active: true,
      last_accessed_at_utc: 0,
      created_at_utc: createdAt,
      modified_at_utc: createdAt,
    };
    const got = await call(server, 'GET', `${BASE}/${created.body.ID}`, { token: seed.bearer });
    expect(got.status).toBe(200);
    expectKeyRecord(got.body);
    expect(got.body).toEqual(expected);

    const list = await call(server, 'GET', BASE, { token: seed.bearer });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    for (const record of list.body) expectKeyRecord(record);
    expect(list.body.find((k: { id: string }) => k.id === created.body.ID)).toEqual(expected);

    clock.advance(5 * MINUTE);
    expect((await check(created.body.Key, created.body.Secret, 'api:read')).status).toBe(200);
    await server.runtime.services.usage.flush();
    const used = await call(server, 'GET', `${BASE}/${created.body.ID}`, { token: seed.bearer });
    expect(used.body.last_accessed_at_utc).toBe(unixNow());
    expect(used.body.created_at_utc).toBe(createdAt);
  });

  it('GET /:id/sessions answers the documented session fields from credential_sessions', async () => {
    const created = await create({ role: 'standard', name: 'With sessions' });
    const sibling = await create({ role: 'standard', name: 'Sibling' });
    const empty = await call(server, 'GET', `${BASE}/${created.body.ID}/sessions`, { token: seed.bearer });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual([]);

    // Usage tracking (another capability) fills this table from real logins; here rows go in directly.
    const insert = async (credentialId: string, ip: string, isActive: number, at: string) => {
      const id = randomUUID();
      await server.sql(
        `INSERT INTO credential_sessions (id, credential_id, tenant_id, ip_address, raw_user_agent, user_agent_family, user_agent_version,
          user_agent_major_version, os_family, os_version, device_family, device_brand, device_type, country, country_iso_code, protocol,
          is_active, created_at, modified_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          credentialId,
          seed.tenantId,
          ip,
          'Thunderbird/115.0',
          'Thunderbird',
          '115.0',
          '115',
          'Linux',
          '',
          'Other',
          '',
          'Unknown',
          'United States',
          'US',
          'imap',
          isActive,
          at,
          at,
          at,
        ],
      );
      return id;
    };
    const first = await insert(created.body.ID, '22.2.3.28', 1, '2022-07-15T07:38:51.000Z');
    const second = await insert(created.body.ID, '198.51.100.7', 0, '2022-07-16T07:38:51.000Z');
    await insert(sibling.body.ID, '203.0.113.9', 1, '2022-07-15T07:38:51.000Z');

    const sessions = await call(server, 'GET', `${BASE}/${created.body.ID}/sessions`, { token: seed.bearer });
    expect(sessions.status).toBe(200);
    expect(sessions.body).toHaveLength(2);
    for (const session of sessions.body) expect(Object.keys(session)).toEqual(SESSION_FIELDS);
    expect(sessions.body[0]).toEqual({
      id: first,
      account_id: seed.tenantId,
      ip_address: '22.2.3.28',
      raw_user_agent: 'Thunderbird/115.0',
      user_agent_family: 'Thunderbird',
      user_agent_version: '115.0',
      user_agent_major_version: '115',
      os_family: 'Linux',
      os_version: '',
      device_family: 'Other',
      device_brand: '',
      device_type: 'Unknown',
      country: 'United States',
      country_iso_code: 'US',
      is_active: true,
      created_at_utc: 1657870731,
      modified_at_utc: 1657870731,
    });
    expect(sessions.body[1]).toMatchObject({ id: second, ip_address: '198.51.100.7', is_active: false, created_at_utc: 1657957131 });

    // Another tenant sees none of it.
    await expectNoChange(server, async () => {
      expectError(await call(server, 'GET', `${BASE}/${created.body.ID}/sessions`, { token: other.bearer }), 404);
    });
  });

  it('PUT /:id/revoke answers 200 with an empty body; the key stops working at once', async () => {
    const created = await create({ role: 'send_only', name: 'To revoke' });
    expect((await check(created.body.Key, created.body.Secret, 'smtp')).status).toBe(200);
    clock.advance(MINUTE);
    const revoked = await call(server, 'PUT', `${BASE}/${created.body.ID}/revoke`, { token: seed.bearer });
    expect(revoked.status).toBe(200);
    expect(revoked.text).toBe('');
    expect((await check(created.body.Key, created.body.Secret, 'smtp')).status).toBe(401);
    const got = await call(server, 'GET', `${BASE}/${created.body.ID}`, { token: seed.bearer });
    expect(got.body.is_active).toBe(false);
    expect(got.body.modified_at_utc).toBe(unixNow());
    expect(got.body.modified_at_utc).toBeGreaterThan(got.body.created_at_utc);
    const [row] = await server.sql<{ status: string }>('SELECT status FROM credentials WHERE id = ?', [created.body.ID]);
    expect(row?.status).toBe('revoked');
    // Revoking again: still 200, nothing recorded twice.
    await expectNoChange(server, async () => {
      const again = await call(server, 'PUT', `${BASE}/${created.body.ID}/revoke`, { token: seed.bearer });
      expect(again.status).toBe(200);
      expect(again.text).toBe('');
    });
  });

  it('rejects unknown roles and missing names with 400 and writes nothing', async () => {
    await expectNoChange(server, async () => {
      expectError(await create({ role: 'admin', name: 'x' }), 400, /role/);
      expectError(await create({ role: 'Standard', name: 'x' }), 400, /role/);
      expectError(await create({ name: 'x' }), 400, /role/);
      expectError(await create({ role: 'standard' }), 400, /name/);
      expectError(await create({ role: 'standard', name: '' }), 400, /name/);
      expectError(await create({ role: 'standard', name: 'x', scopes: ['smtp'] }), 400, /scopes/);
      expectError(await call(server, 'POST', BASE, { token: seed.bearer, rawBody: 'not json' }), 400);
      expectError(await call(server, 'GET', `${BASE}/${randomUUID()}`, { token: seed.bearer }), 404);
      expectError(await call(server, 'PUT', `${BASE}/${randomUUID()}/revoke`, { token: seed.bearer }), 404);
    });
  });

  it('needs a tenant Bearer token (401/403)', async () => {
    await expectNoChange(server, async () => {
      expectError(await call(server, 'GET', BASE), 401);
      expectError(await create({ role: 'standard', name: 'x' }, 'rkb_bogus'), 401);
      expectError(await create({ role: 'standard', name: 'x' }, seed.server), 403);
      expectError(await create({ role: 'standard', name: 'x' }, seed.adminToken), 403);
      // Authentication comes before the body is looked at.
      expectError(await call(server, 'POST', BASE, { body: { role: 'nope' } }), 401);
      expectError(await create({ role: 'nope' }, seed.server), 403);
    });
  });

  it('another tenant or another login answers 404 and changes nothing', async () => {
    const created = await create({ role: 'standard', name: 'Tenant key' });
    const alice = await create({ role: 'read_only', name: 'Alice key' }, seed.loginBearer);
    expect(alice.status).toBe(201);
    const bob = await createLoginBearer(server, seed.adminToken, seed.tenantId, `bob@${seed.loginAddress.split('@')[1]}`);
    await expectNoChange(server, async () => {
      for (const path of [`${BASE}/${created.body.ID}`, `${BASE}/${created.body.ID}/sessions`]) {
        expectError(await call(server, 'GET', path, { token: other.bearer }), 404);
      }
      expectError(await call(server, 'PUT', `${BASE}/${created.body.ID}/revoke`, { token: other.bearer }), 404);
      const theirs = await call(server, 'GET', BASE, { token: other.bearer });
      expect(theirs.body.map((k: { id: string }) => k.id)).not.toContain(created.body.ID);
      // A login-bound token sees only that login's keys.
      expectError(await call(server, 'GET', `${BASE}/${alice.body.ID}`, { token: bob.token }), 404);
      expectError(await call(server, 'PUT', `${BASE}/${alice.body.ID}/revoke`, { token: bob.token }), 404);
      const bobs = await call(server, 'GET', BASE, { token: bob.token });
      expect(bobs.body).toEqual([]);
    });
    expect((await call(server, 'GET', `${BASE}/${alice.body.ID}`, { token: seed.loginBearer })).status).toBe(200);
    expect((await check(created.body.Key, created.body.Secret, 'imap')).status).toBe(200);
  });
});
