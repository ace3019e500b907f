// Seed 000 over real HTTP: provisioning, reveal with checkout, rotation, emergency reset, audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountRow, activeSmtpCredentials, auditTrail, reauth, reveal, revealPassword, rotate, smtpVerifies, vaultPath } from './helpers.js';

/** The seed prints times to the second: `2025-01-15T10:00:00Z`. */
const toSeconds = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

describe.each(DIALECTS)('seed 000 SMTP credentials on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  it('provisions the account with the tenant; its password verifies for smtp, imap and pop3 only', async () => {
    const account = await accountRow(server, seed.tenantId);
    expect(account.username).toBe(seed.smtpUsername);
    expect(account.secret_version).toBe(1);
    expect(account.next_rotation).toBe('2026-09-01T10:00:00.000Z');
    const password = await revealPassword(server, seed, await reauth(server, seed));
    expect(password).toMatch(/^rkp_[0-9A-Za-z]{38}$/);
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(account.ciphertext).not.toContain(password);
    for (const protocol of ['smtp', 'imap', 'pop3']) expect(await smtpVerifies(server, seed, password, seed.smtpUsername, protocol)).toBe(true);
    expect(await smtpVerifies(server, seed, password, seed.smtpUsername.toUpperCase())).toBe(true);
    expect(await smtpVerifies(server, seed, password, 'someone@else.test')).toBe(false);
    expect(await smtpVerifies(server, seed, password, seed.smtpUsername, 'api:read')).toBe(false);
  });

  it('the seed 000 routes are in the OpenAPI document', async () => {
    const document = await call(server, 'GET', '/openapi.json');
    expect(document.status).toBe(200);
    const paths = Object.keys(document.body.paths);
    for (const suffix of ['', '/rotate', '/emergency-reset', '/audit']) {
      expect(paths).toContain(`/api/v1/platform-admin/tenants/{tenant_id}/smtp-credentials${suffix}`);
    }
  });

  it('reveals in the seed shape with no-store; a second read inside the checkout returns the same password and the same expires_at', async () => {
    clock.advance(20 * MINUTE); // any earlier checkout has lapsed
    await call(server, 'POST', vaultPath(seed.tenantId, '/rotate'), { token: seed.adminToken, body: { reason: 'fresh start' } });
    const token = await reauth(server, seed);
    const first = await reveal(server, seed, token);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(first.body).sort()).toEqual(['created_at', 'expires_at', 'last_rotated', 'next_rotation', 'password', 'username', 'webmail_url']);
    expect(first.body.username).toBe(seed.smtpUsername);
    expect(first.body.webmail_url).toMatch(/^https:\/\/mail\./);
    expect(first.body.expires_at).toBe(toSeconds(new Date(clock.now().getTime() + 15 * MINUTE).toISOString()));
    expect(toSeconds((await accountRow(server, seed.tenantId)).checkout_expires_at as string)).toBe(first.body.expires_at);

    clock.advance(5 * MINUTE);
    const second = await reveal(server, seed, await reauth(server, seed));
    expect(second.status).toBe(200);
    expect(second.body.password).toBe(first.body.password);
    expect(second.body.expires_at).toBe(first.body.expires_at); // not extended

    const trail = await auditTrail(server, seed);
    const accessed = trail.body.events.filter((e: { event: string }) => e.event === 'smtp_credentials_accessed');
    expect(accessed[0].details.checkout).toBe('existing');
    expect(accessed[1].details.checkout).toBe('opened');
    expect(accessed[0].user_id).toBeTruthy();
    expect(accessed[0].ip_address).toBe('127.0.0.1');
  });

  it('manual rotation: seed shape, the old password stops verifying at once, the new one verifies, checkout closed', async () => {
    const before = await revealPassword(server, seed, await reauth(server, seed));
    expect(await smtpVerifies(server, seed, before)).toBe(true); // warms the verify cache
    const rotated = await rotate(server, seed, 'Manual rotation for security audit');
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ success: true, rotated_at: toSeconds(clock.now().toISOString()), next_rotation: '2026-09-01T10:25:00Z' });
    expect(await smtpVerifies(server, seed, before)).toBe(false);
    const account = await accountRow(server, seed.tenantId);
    expect(account.checkout_expires_at).toBeNull();
    expect(toSeconds(account.last_rotated as string)).toBe(rotated.body.rotated_at);
    const after = await revealPassword(server, seed, await reauth(server, seed));
    expect(after).not.toBe(before);
    expect(await smtpVerifies(server, seed, after)).toBe(true);
    const trail = await auditTrail(server, seed);
    const event = trail.body.events.find((e: { event: string }) => e.event === 'smtp_credentials_rotated');
    expect(event).toMatchObject({ severity: 'info', details: { rotation_type: 'manual', reason: 'Manual rotation for security audit' } });
  });

  it('two concurrent rotations: both succeed and are audited, exactly one password is current', async () => {
    clock.advance(20 * MINUTE);
    const token = await reauth(server, seed);
    const original = await revealPassword(server, seed, token);
    const rotationsBefore = (await auditTrail(server, seed)).body.events.filter((e: { event: string }) => e.event === 'smtp_credentials_rotated').length;
    const versionBefore = (await accountRow(server, seed.tenantId)).secret_version;
    const [a, b] = await Promise.all([rotate(server, seed, 'race one'), rotate(server, seed, 'race two')]);
    expect([a.status, b.status]).toEqual([200, 200]);

    const account = await accountRow(server, seed.tenantId);
    expect(account.secret_version).toBe(versionBefore + 2);
    const active = await activeSmtpCredentials(server, seed.tenantId);
    expect(active).toEqual([account.credential_id]);
    const trail = (await auditTrail(server, seed)).body.events.filter((e: { event: string }) => e.event === 'smtp_credentials_rotated');
    expect(trail.length).toBe(rotationsBefore + 2);
    expect(
      trail
        .slice(0, 2)
        .map((e: { details: { reason: string } }) => e.details.reason)
        .sort(),
    ).toEqual(['race one', 'race two']);

    const current = await revealPassword(server, seed, await reauth(server, seed));
    expect(await smtpVerifies(server, seed, current)).toBe(true);
    expect(await smtpVerifies(server, seed, original)).toBe(false);
  });

  it('emergency reset returns the new password under a fresh checkout; a repeated incident id is a 409 that changes nothing', async () => {
    const token = await reauth(server, seed);
    const old = await revealPassword(server, seed, token); // opens a checkout
    const reset = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      token: seed.adminToken,
      headers: { 'x-reauth-token': await reauth(server, seed) },
      body: { incident_id: 'INC-2026-001', reason: 'Suspected credential compromise' },
    });
    expect(reset.status).toBe(200);
    expect(reset.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(reset.body).sort()).toEqual(['expires_at', 'incident_id', 'password', 'success', 'username', 'webmail_url']);
    expect(reset.body).toMatchObject({ success: true, username: seed.smtpUsername, incident_id: 'INC-2026-001' });
    expect(reset.body.expires_at).toBe(toSeconds(new Date(clock.now().getTime() + 15 * MINUTE).toISOString()));
    const fresh = Buffer.from(reset.body.password, 'base64').toString('utf8');
    expect(fresh).not.toBe(old);
    expect(await smtpVerifies(server, seed, old)).toBe(false);
    expect(await smtpVerifies(server, seed, fresh)).toBe(true);

    const trail = await auditTrail(server, seed);
    const event = trail.body.events.find((e: { event: string }) => e.event === 'smtp_credentials_emergency_reset');
    expect(event).toMatchObject({
      severity: 'critical',
      details: { rotation_type: 'emergency_reset', incident_id: 'INC-2026-001', reason: 'Suspected credential compromise' },
    });
    expect(event.details.closed_checkout_expires_at).toBeTruthy();

    const stateBefore = await accountRow(server, seed.tenantId);
    const totalBefore = trail.body.total;
    const again = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      token: seed.adminToken,
      headers: { 'x-reauth-token': await reauth(server, seed) },
      body: { incident_id: 'INC-2026-001', reason: 'clicked twice' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INCIDENT_ALREADY_RESET');
    expect(again.body.error.message).toContain('INC-2026-001');
    expect(again.text).not.toContain(reset.body.password);
    expect(await accountRow(server, seed.tenantId)).toEqual(stateBefore);
    expect((await auditTrail(server, seed)).body.total).toBe(totalBefore);
    expect(await smtpVerifies(server, seed, fresh)).toBe(true);
  });

  it('audit trail: seed shape, 50 a page, newest first, only this tenant and only SMTP-account events', async () => {
    const other = await seedTenant(server, 'Other');
    await rotate(server, other, 'other tenant rotation', other.tenantId);
    const token = await reauth(server, seed);
    for (let i = 0; i < 50; i += 1) await reveal(server, seed, token);
    const first = await auditTrail(server, seed);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['events', 'page', 'per_page', 'total']);
    expect(first.body.per_page).toBe(50);
    expect(first.body.page).toBe(1);
    expect(first.body.events).toHaveLength(50);
    expect(first.body.total).toBeGreaterThan(50);
    const second = await auditTrail(server, seed, 2);
    expect(second.body.events).toHaveLength(first.body.total - 50);
    const all = [...first.body.events, ...second.body.events];
    expect(all.at(-1).event).toBe('smtp_credentials_created');
    const times = all.map((e: { timestamp: string }) => e.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    for (const event of all) {
      expect(event.event).toMatch(/^smtp_credentials_/);
      expect(Object.keys(event).every((k) => ['id', 'event', 'user_id', 'timestamp', 'ip_address', 'severity', 'details'].includes(k))).toBe(true);
    }
    const ids = new Set(all.map((e: { id: string }) => e.id));
    const otherTrail = await auditTrail(server, other, 1, other.tenantId);
    expect(otherTrail.body.events.some((e: { id: string }) => ids.has(e.id))).toBe(false);
    expect(otherTrail.body.events.map((e: { event: string }) => e.event)).toEqual(['smtp_credentials_rotated', 'smtp_credentials_created']);
    const beyond = await auditTrail(server, seed, 99);
    expect(beyond.body.events).toEqual([]);
  });
});
