// The vault jobs, run directly after moving the clock: checkout expiry and scheduled rotation,
// each item handled exactly once (also by two runtimes racing on one PostgreSQL database).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, ManualClock, MINUTE } from '../../src/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { addMonths } from '../../src/domain/vault.js';
import { checkoutExpiryJob, smtpScheduledRotationJob, vaultJobs } from '../../src/jobs/vault-jobs.js';
import { CAPABILITIES } from '../../src/extensions.js';
import { createLogger } from '../../src/logging.js';
import { createRuntime } from '../../src/runtime.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { accountRow, auditTrail, reauth, revealPassword, smtpVerifies, vaultPath } from './helpers.js';

describe('vault job plumbing', () => {
  it('exports the two jobs by name', () => {
    expect(vaultJobs.map((j) => j.name)).toEqual(['checkout-expiry', 'smtp-scheduled-rotation']);
    expect(vaultJobs.every((j) => j.intervalMs > 0)).toBe(true);
  });

  it('RELAYKEY_SMTP_ROTATION_MONTHS is parsed once, with a clear error', () => {
    expect(loadConfig({}).smtpRotationMonths).toBe(6);
    expect(loadConfig({ RELAYKEY_SMTP_ROTATION_MONTHS: '3' }).smtpRotationMonths).toBe(3);
    expect(() => loadConfig({ RELAYKEY_SMTP_ROTATION_MONTHS: 'six' })).toThrow(ConfigError);
    expect(() => loadConfig({ RELAYKEY_SMTP_ROTATION_MONTHS: '0' })).toThrow(/RELAYKEY_SMTP_ROTATION_MONTHS/);
  });

  it('adds calendar months in UTC, clamping to the end of shorter months', () => {
    expect(addMonths(new Date('2026-01-15T10:00:00Z'), 6).toISOString()).toBe('2026-07-15T10:00:00.000Z');
    expect(addMonths(new Date('2026-08-31T00:00:00Z'), 6).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(addMonths(new Date('2027-08-31T12:00:00Z'), 6).toISOString()).toBe('2028-02-29T12:00:00.000Z');
  });
});

describe.each(DIALECTS)('vault jobs on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock('2026-02-01T09:00:00.000Z');

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_SMTP_ROTATION_MONTHS: '2' } });
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  /** Admin sessions follow the clock too: sign in again after a long jump. */
  const signInAgain = async () => {
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    expect(login.status).toBe(200);
    seed.adminToken = login.body.token as string;
  };

  const rotationEvents = async (type: string, tenant = seed) =>
    (await auditTrail(server, { ...tenant, adminToken: seed.adminToken }, 1, tenant.tenantId)).body.events.filter(
      (e: { event: string; details?: { rotation_type?: string } }) => e.event === 'smtp_credentials_rotated' && e.details?.rotation_type === type,
    );

  it('a revealed password stops verifying when its checkout expires; the new one verifies; audit says checkout_expiry', async () => {
    const revealed = await revealPassword(server, seed, await reauth(server, seed));
    expect(await smtpVerifies(server, seed, revealed)).toBe(true);

    clock.advance(10 * MINUTE);
    // A second read inside the checkout does not extend it.
    expect(await revealPassword(server, seed, await reauth(server, seed))).toBe(revealed);
    clock.advance(4 * MINUTE + 59_000);
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(0);
    expect(await smtpVerifies(server, seed, revealed)).toBe(true);

    clock.advance(1000); // exactly 15 minutes after the first read
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(1);
    expect(await smtpVerifies(server, seed, revealed)).toBe(false);
    const account = await accountRow(server, seed.tenantId);
    expect(account.checkout_expires_at).toBeNull();
    expect(account.next_rotation).toBe(addMonths(clock.now(), 2).toISOString());

    const events = await rotationEvents('checkout_expiry');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ user_id: 'system', severity: 'info' });
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(0); // handled once

    const current = await revealPassword(server, seed, await reauth(server, seed));
    expect(current).not.toBe(revealed);
    expect(await smtpVerifies(server, seed, current)).toBe(true);
    clock.advance(15 * MINUTE);
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(1);
    expect(await smtpVerifies(server, seed, current)).toBe(false);
  });

  it('the password shown by an emergency reset is rotated when its checkout expires', async () => {
    const reset = await call(server, 'POST', vaultPath(seed.tenantId, '/emergency-reset'), {
      token: seed.adminToken,
      headers: { 'x-reauth-token': await reauth(server, seed) },
      body: { incident_id: 'INC-JOB-1', reason: 'phishing' },
    });
    expect(reset.status).toBe(200);
    const shown = Buffer.from(reset.body.password, 'base64').toString('utf8');
    expect(await smtpVerifies(server, seed, shown)).toBe(true);
    clock.advance(15 * MINUTE);
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(1);
    expect(await smtpVerifies(server, seed, shown)).toBe(false);
  });

  it('scheduled rotation rotates every account whose next_rotation passed, as user system, once; open checkouts wait', async () => {
    const second = await call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: 'Second', domain: 'second-jobs.test' } });
    expect(second.status).toBe(201);
    const secondSeed = { ...seed, tenantId: second.body.id as string, smtpUsername: second.body.smtp_username as string };
    expect(await smtpScheduledRotationJob.run(server.runtime)).toBe(0); // nothing due yet
    clock.advance(62 * DAY);
    await signInAgain();
    // Both are due, but seed's password is checked out right now: the checkout job rotates it instead.
    const current = await revealPassword(server, seed, await reauth(server, seed));
    expect(await smtpScheduledRotationJob.run(server.runtime)).toBe(1);
    expect(await smtpVerifies(server, seed, current)).toBe(true);
    const automated = await rotationEvents('automated', secondSeed);
    expect(automated).toHaveLength(1);
    expect(automated[0]).toMatchObject({ user_id: 'system', details: { rotation_type: 'automated' } });
    expect((await accountRow(server, secondSeed.tenantId)).next_rotation).toBe(addMonths(clock.now(), 2).toISOString());
    expect(await smtpScheduledRotationJob.run(server.runtime)).toBe(0);

    clock.advance(15 * MINUTE);
    expect(await checkoutExpiryJob.run(server.runtime)).toBe(1);
    expect(await smtpVerifies(server, seed, current)).toBe(false);
    expect(await smtpScheduledRotationJob.run(server.runtime)).toBe(0); // the expiry rotation reset next_rotation
    expect(await rotationEvents('automated')).toHaveLength(0);
    clock.advance(61 * DAY);
    await signInAgain();
    expect(await smtpScheduledRotationJob.run(server.runtime)).toBe(2);
    expect(await rotationEvents('automated')).toHaveLength(1);
  });

  it.runIf(dialect === 'postgres')('two processes running the checkout job at once rotate each account exactly once', async () => {
    const tenants: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const created = await call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: `Race ${i}`, domain: `race${i}.test` } });
      tenants.push(created.body.id as string);
    }
    const token = await reauth(server, seed);
    for (const tenantId of [seed.tenantId, ...tenants]) await revealPassword(server, seed, token, tenantId);
    clock.advance(15 * MINUTE);
    const secondProcess = await createRuntime(loadConfig(server.env), CAPABILITIES, { clock, logger: createLogger({ level: 'silent' }) });
    try {
      const [a, b] = await Promise.all([checkoutExpiryJob.run(server.runtime), checkoutExpiryJob.run(secondProcess)]);
      expect(a + b).toBe(5);
    } finally {
      await secondProcess.close();
    }
    for (const tenantId of [seed.tenantId, ...tenants]) {
      const rows = await server.sql<{ n: number }>(
        "SELECT count(*) AS n FROM audit_events WHERE tenant_id = ? AND event = 'smtp_credentials_rotated' AND occurred_at = ?",
        [tenantId, clock.now().toISOString()],
      );
      expect(Number(rows[0]?.n)).toBe(1);
      const active = await server.sql("SELECT id FROM credentials WHERE tenant_id = ? AND surface = 'smtp_account' AND status = 'active'", [tenantId]);
      expect(active).toHaveLength(1);
    }
  });
});
