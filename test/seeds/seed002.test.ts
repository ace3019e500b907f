// Seed 002 (per-user SMTP credentials, Bearer bound to a login) contract: every documented field,
// type, casing, status code and prefix, atomic rotation, mobile keys, isolation and rate limits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { MOBILE_SCOPES } from '../../src/domain/scopes.js';
import { SEED002_LIMITS } from '../../src/surfaces/seed002/rate-limits.js';
import { type ApiResponse, call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { createLoginBearer, createToken, expectDocumented, expectNoChange, ISO_SECONDS } from './helpers.js';

const BASE = '/api/smtp-credentials';
const API_KEY = /^rm_[0-9A-Za-z]{38}$/;
const KEY_FIELDS = ['createdAt', 'id', 'isActive', 'lastUsedAt', 'name', 'scopes'];

describe.each(DIALECTS)('seed 002 smtp credentials on %s', (dialect) => {
  const clock = new ManualClock('2026-04-03T15:00:00.000Z');
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server, 'Mailer');
    other = await seedTenant(server, 'Other');
  });
  afterAll(async () => server?.close());
  // Each test starts in a fresh rate-limit window.
  beforeEach(() => clock.advance(MINUTE + 1000));

  const create = (body: unknown, token = seed.loginBearer) => call(server, 'POST', BASE, { token, body });
  const check = (password: string, protocol: string, username = seed.loginAddress) => verify(server, seed.verifier, { username, password, protocol });

  function expectIssued(response: ApiResponse, status: number, name: string, scopes: string[]) {
    expect(response.status).toBe(status);
    expect(Object.keys(response.body).sort()).toEqual([...KEY_FIELDS, 'apiKey'].sort());
    expect(response.body).toMatchObject({ name, scopes, isActive: true, lastUsedAt: null });
    expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.body.createdAt).toMatch(ISO_SECONDS);
    expect(response.body.apiKey).toMatch(API_KEY);
    expect(response.headers.get('cache-control')).toBe('no-store');
  }

  function expectError(response: ApiResponse, status: number, pattern?: RegExp) {
    expect(response.status).toBe(status);
    expect(typeof response.body.error.message).toBe('string');
    if (pattern) expect(response.body.error.message).toMatch(pattern);
  }

  it('documents every operation in /openapi.json under the seed002 tag', async () => {
    await expectDocumented(server, 'seed002', [
      ['get', BASE],
      ['post', BASE],
      ['post', `${BASE}/mobile`],
      ['delete', `${BASE}/{keyId}`],
      ['post', `${BASE}/{keyId}/rotate`],
    ]);
  });

  it('GET returns the tenant connection info and this login’s active keys in camelCase', async () => {
    const patched = await call(server, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, {
      token: seed.adminToken,
      body: { connection_info: { pop3: { enabled: false }, imap: { server_name: 'mail.example.net', secure_port: 9993 } } },
    });
    expect(patched.status).toBe(200);
    const createdAt = clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    const created = await create({ name: 'Thunderbird', scopes: ['smtp', 'pop3', 'imap'] });
    expect(created.status).toBe(201);

    const got = await call(server, 'GET', BASE, { token: seed.loginBearer });
    expect(got.status).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(['connectionInfo', 'keys']);
    const domain = seed.loginAddress.split('@')[1];
    expect(got.body.connectionInfo).toEqual({
      smtp: { serverName: `smtp.${domain}`, port: 587, securePort: 465, enabled: true },
      pop3: { serverName: `pop3.${domain}`, port: 110, securePort: 995, enabled: false },
      imap: { serverName: 'mail.example.net', port: 143, securePort: 9993, enabled: true },
    });
    const key = got.body.keys.find((k: { id: string }) => k.id === created.body.id);
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    expect(key).toEqual({
      id: created.body.id,
      name: 'Thunderbird',
      createdAt,
      lastUsedAt: null,
      isActive: true,
      scopes: ['smtp', 'pop3', 'imap'],
    });
    expect(created.body.createdAt).toBe(createdAt);
    expect(got.text).not.toContain(created.body.apiKey);

    // lastUsedAt follows real use.
    expect((await check(created.body.apiKey, 'imap')).status).toBe(200);
    await server.runtime.services.usage.flush();
    const after = await call(server, 'GET', BASE, { token: seed.loginBearer });
    expect(after.body.keys.find((k: { id: string }) => k.id === created.body.id).lastUsedAt).toBe(
      clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
  });

  it('POST creates an rm_ key shown once, usable only for its scopes and its login', async () => {
    const created = await create({ name: 'My Email Client', scopes: ['smtp', 'api:read'] });
    expectIssued(created, 201, 'My Email Client', ['smtp', 'api:read']);
    const apiKey = created.body.apiKey;
    expect((await check(apiKey, 'smtp')).status).toBe(200);
    expect((await check(apiKey, 'api:read')).status).toBe(200);
    for (const protocol of ['imap', 'pop3', 'api:write']) expect((await check(apiKey, protocol)).status).toBe(401);
    expect((await check(apiKey, 'smtp', 'mallory@example.org')).status).toBe(401);
    const row = await server.sql<{ surface: string; login_id: string }>('SELECT surface, login_id FROM credentials WHERE id = ?', [created.body.id]);
    expect(row).toEqual([{ surface: 'seed002', login_id: seed.loginId }]);
  });

  it('accepts every documented scope and rejects unknown or empty scope lists (400, nothing written)', async () => {
    const all = ['smtp', 'pop3', 'imap', 'api:read', 'api:write', 'app', 'internal'];
    expectIssued(await create({ name: 'Everything', scopes: all }), 201, 'Everything', all);
    await expectNoChange(server, async () => {
      expectError(await create({ name: 'x', scopes: [] }), 400, /scopes/);
      expectError(await create({ name: 'x', scopes: ['smtp', 'admin'] }), 400, /scopes\[1\]/);
      expectError(await create({ name: 'x', scopes: ['smtp', 'smtp'] }), 400, /scopes/);
      expectError(await create({ name: 'x', scopes: 'smtp' }), 400, /scopes/);
      expectError(await create({ scopes: ['smtp'] }), 400, /name/);
      expectError(await create({ name: '   ', scopes: ['smtp'] }), 400, /name/);
      expectError(await create({ name: 'x', scopes: ['smtp'], expires: 'never' }), 400, /expires/);
      // Rejected attempts count against the key-creation budget too: start a new window.
      clock.advance(MINUTE);
      expectError(await call(server, 'POST', BASE, { token: seed.loginBearer, rawBody: '{"name": "x",' }), 400);
      expectError(await call(server, 'POST', `${BASE}/mobile`, { token: seed.loginBearer, body: { name: 'Phone', platform: 'ios' } }), 400, /deviceId/);
      expectError(await call(server, 'POST', `${BASE}/mobile`, { token: seed.loginBearer, body: { name: 'Phone', deviceId: 'd1' } }), 400, /platform/);
    });
  });

  it('DELETE revokes with 204: access is lost at once and the key leaves the list', async () => {
    const created = await create({ name: 'Short-lived', scopes: ['smtp'] });
    expect((await check(created.body.apiKey, 'smtp')).status).toBe(200);
    const deleted = await call(server, 'DELETE', `${BASE}/${created.body.id}`, { token: seed.loginBearer });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await check(created.body.apiKey, 'smtp')).status).toBe(401);
    const list = await call(server, 'GET', BASE, { token: seed.loginBearer });
    expect(list.body.keys.map((k: { id: string }) => k.id)).not.toContain(created.body.id);
    await expectNoChange(server, async () => {
      expectError(await call(server, 'DELETE', `${BASE}/${created.body.id}`, { token: seed.loginBearer }), 404);
      expectError(await call(server, 'POST', `${BASE}/${created.body.id}/rotate`, { token: seed.loginBearer }), 404);
    });
  });

  it('rotate answers 200 with a new key of the same name and scopes; the old one is revoked in the same transaction', async () => {
    const created = await create({ name: 'Thunderbird', scopes: ['smtp', 'imap'] });
    const rotated = await call(server, 'POST', `${BASE}/${created.body.id}/rotate`, { token: seed.loginBearer });
    expectIssued(rotated, 200, 'Thunderbird', ['smtp', 'imap']);
    expect(rotated.body.id).not.toBe(created.body.id);
    expect(rotated.body.apiKey).not.toBe(created.body.apiKey);
    expect((await check(created.body.apiKey, 'smtp')).status).toBe(401);
    expect((await check(rotated.body.apiKey, 'smtp')).status).toBe(200);
    const rows = await server.sql<{ id: string; status: string; replaces_id: string | null; revoked_reason: string | null }>(
      'SELECT id, status, replaces_id, revoked_reason FROM credentials WHERE id IN (?, ?) ORDER BY num_id',
      [created.body.id, rotated.body.id],
    );
    expect(rows).toEqual([
      { id: created.body.id, status: 'revoked', replaces_id: null, revoked_reason: 'rotated' },
      { id: rotated.body.id, status: 'active', replaces_id: created.body.id, revoked_reason: null },
    ]);
    const list = await call(server, 'GET', BASE, { token: seed.loginBearer });
    const ids = list.body.keys.map((k: { id: string }) => k.id);
    expect(ids).toContain(rotated.body.id);
    expect(ids).not.toContain(created.body.id);
  });

  it('POST /mobile creates a key with the mobile scopes and keeps platform and device id as metadata', async () => {
    const created = await call(server, 'POST', `${BASE}/mobile`, {
      token: seed.loginBearer,
      body: { name: 'iPhone 15', platform: 'ios', deviceId: 'device-identifier' },
    });
    expectIssued(created, 201, 'iPhone 15', MOBILE_SCOPES);
    expect(MOBILE_SCOPES).toEqual(['app']);
    const [row] = await server.sql<{ metadata: string; scopes: string }>('SELECT metadata, scopes FROM credentials WHERE id = ?', [created.body.id]);
    expect(JSON.parse(row?.metadata ?? '{}')).toEqual({ platform: 'ios', device_id: 'device-identifier' });
    expect((await check(created.body.apiKey, 'imap')).status).toBe(200);
    expect((await check(created.body.apiKey, 'api:write')).status).toBe(200);
    // Rotation keeps the metadata and the scopes.
    const rotated = await call(server, 'POST', `${BASE}/${created.body.id}/rotate`, { token: seed.loginBearer });
    expectIssued(rotated, 200, 'iPhone 15', MOBILE_SCOPES);
    const [rotatedRow] = await server.sql<{ metadata: string }>('SELECT metadata FROM credentials WHERE id = ?', [rotated.body.id]);
    expect(JSON.parse(rotatedRow?.metadata ?? '{}')).toEqual({ platform: 'ios', device_id: 'device-identifier' });
  });

  it('needs a Bearer token bound to a login: 401 without one, 403 for other tokens', async () => {
    await expectNoChange(server, async () => {
      expectError(await call(server, 'GET', BASE), 401);
      expectError(await call(server, 'GET', BASE, { token: 'rm_nope' }), 401);
      expectError(await call(server, 'GET', BASE, { token: seed.bearer }), 403, /bound to a mailbox login/);
      expectError(await create({ name: 'x', scopes: ['smtp'] }, seed.bearer), 403, /bound to a mailbox login/);
      // Authentication comes before the body is looked at.
      expectError(await call(server, 'POST', BASE, { body: { scopes: [] } }), 401);
      expectError(await create({ scopes: [] }, seed.bearer), 403);
      expectError(await call(server, 'GET', BASE, { token: seed.server }), 403);
      expectError(await call(server, 'GET', BASE, { token: seed.adminToken }), 403);
    });
  });

  it('another login or another tenant cannot see, revoke or rotate the key (404)', async () => {
    const mine = await create({ name: 'Mine', scopes: ['smtp'] });
    const bob = await createLoginBearer(server, seed.adminToken, seed.tenantId, `bob@${seed.loginAddress.split('@')[1]}`);
    await expectNoChange(server, async () => {
      for (const token of [bob.token, other.loginBearer]) {
        expectError(await call(server, 'DELETE', `${BASE}/${mine.body.id}`, { token }), 404);
        expectError(await call(server, 'POST', `${BASE}/${mine.body.id}/rotate`, { token }), 404);
        const list = await call(server, 'GET', BASE, { token });
        expect(list.status).toBe(200);
        expect(list.body.keys.map((k: { id: string }) => k.id)).not.toContain(mine.body.id);
      }
      expectError(await call(server, 'DELETE', `${BASE}/not-a-key`, { token: seed.loginBearer }), 404);
    });
    expect((await check(mine.body.apiKey, 'smtp')).status).toBe(200);
  });

  it('limits key creation per token: 429 with Retry-After, nothing written, then allowed again', async () => {
    const token = await createToken(server, seed.adminToken, seed.tenantId, { kind: 'bearer', login_id: seed.loginId });
    for (let i = 0; i < SEED002_LIMITS.issuesPerTokenPerMinute; i += 1) {
      expect((await create({ name: `k${i}`, scopes: ['smtp'] }, token)).status).toBe(201);
    }
    await expectNoChange(server, async () => {
      const limited = await create({ name: 'one too many', scopes: ['smtp'] }, token);
      expectError(limited, 429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expectError(await call(server, 'POST', `${BASE}/mobile`, { token, body: { name: 'p', platform: 'android', deviceId: 'd' } }), 429);
    });
    // Reading is still allowed; another token of the same login has its own budget.
    expect((await call(server, 'GET', BASE, { token })).status).toBe(200);
    expect((await create({ name: 'other token', scopes: ['smtp'] })).status).toBe(201);
    clock.advance(MINUTE);
    expect((await create({ name: 'next minute', scopes: ['smtp'] }, token)).status).toBe(201);
  });

  it('limits key creation per client IP across tokens', async () => {
    const tokens: string[] = [];
    const perToken = SEED002_LIMITS.issuesPerTokenPerMinute;
    const needed = Math.ceil(SEED002_LIMITS.issuesPerIpPerMinute / perToken) + 1;
    for (let i = 0; i < needed; i += 1) tokens.push(await createToken(server, seed.adminToken, seed.tenantId, { kind: 'bearer', login_id: seed.loginId }));
    let created = 0;
    for (const token of tokens) {
      for (let i = 0; i < perToken && created < SEED002_LIMITS.issuesPerIpPerMinute; i += 1, created += 1) {
        expect((await create({ name: `ip${created}`, scopes: ['smtp'] }, token)).status).toBe(201);
      }
    }
    const fresh = tokens[tokens.length - 1] as string;
    await expectNoChange(server, async () => {
      const limited = await create({ name: 'over the IP budget', scopes: ['smtp'] }, fresh);
      expectError(limited, 429, /address/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
    clock.advance(MINUTE);
    expect((await create({ name: 'after the window', scopes: ['smtp'] }, fresh)).status).toBe(201);
  });
});
