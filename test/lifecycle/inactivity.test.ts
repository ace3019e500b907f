// A fake clock drives the lifecycle jobs: the 90-day inactivity rule (per tenant and per role),
// the warning 7 days before, expiry notices, and session pruning. Revoked keys fail verify.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, HOUR, ManualClock, MINUTE } from '../../src/clock.js';
import { CLI_ACTOR } from '../../src/domain/types.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

describe.each(DIALECTS)('credential lifecycle jobs on %s', (dialect) => {
  let server: TestServer;
  let a: SeededTenant;
  let b: SeededTenant;
  const start = new Date();
  const clock = new ManualClock(start);
  const receiver = new WebhookReceiver();
  const at = (days: number) => clock.set(new Date(start.getTime() + days * DAY + MINUTE));
  const runJob = async (name: string) => {
    const run = await server.runtime.scheduler.run(name);
    expect(run.outcome, run.error ?? '').toBe('ok');
    return run.items;
  };
  const create = async (tenant: SeededTenant, body: Record<string, unknown>) => {
    const created = await call(server, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, { token: tenant.bearer, body: { name: 'k', ...body } });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; secret: string };
  };
  const state = async (tenant: SeededTenant, id: string) =>
    (await call(server, 'GET', `/api/v1/tenants/${tenant.tenantId}/credentials/${id}`, { token: tenant.bearer })).body as {
      status: string;
      revoked_reason: string | null;
    };
  const events = async (tenant: SeededTenant, event: string, target: string) =>
    (await call(server, 'GET', `/api/v1/tenants/${tenant.tenantId}/audit-events?event=${event}&target=${target}`, { token: tenant.bearer })).body
      .data as Array<{
      details: Record<string, unknown>;
      actor: { type: string };
    }>;

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    a = await seedTenant(server, 'Alpha');
    b = await seedTenant(server, 'Beta');
    await receiver.start();
    const hook = await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/webhooks`, { token: a.bearer, body: { url: receiver.url } });
    receiver.secret = hook.body.secret;
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  it('warns 7 days ahead, then revokes for inactivity; per tenant, per role, and only unused keys', async () => {
    const roleDays = await call(server, 'PATCH', `/api/v1/tenants/${a.tenantId}`, {
      token: a.adminToken,
      // A period named in the settings brings the tenant's native credentials under the rule.
      body: { settings: { inactivity_days: 90, inactivity_days_by_role: { iac: 30 } } },
    });
    expect(roleDays.status, roleDays.text).toBe(200);
    const tenantDays = await call(server, 'PATCH', `/api/v1/tenants/${b.tenantId}`, { token: b.adminToken, body: { settings: { inactivity_days: 10 } } });
    expect(tenantDays.status).toBe(200);

    const idle = await create(a, { scopes: ['smtp'], login_id: a.loginId });
    const used = await create(a, { scopes: ['smtp'], login_id: a.loginId });
    const iac = await create(a, { role: 'iac' });
    const short = await create(b, { scopes: ['api:read'] });
    // The vaulted SMTP account is the vault's to rotate; inactivity never retires it.
    const vaulted = await server.runtime.services.credentials.create(
      { tenantId: a.tenantId, surface: 'smtp_account', name: 'vault', scopes: ['smtp'] },
      CLI_ACTOR,
    );
    const works = async (credential: { secret: string }, username = a.loginAddress, protocol = 'smtp') =>
      (await verify(server, a.verifier, { username, password: credential.secret, protocol })).status;

    at(4); // tenant B (10 days): warning due from day 3
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await runJob('inactivity-revocation')).toBe(0);
    const [warning] = await events(b, 'credential.inactivity_warning', short.id);
    expect(warning?.actor.type).toBe('system');
    expect(warning?.details).toMatchObject({ reason: 'inactivity', inactivity_days: 10 });
    expect(new Date(warning?.details.revokes_at as string).getTime()).toBe(new Date(warning?.details.inactive_since as string).getTime() + 10 * DAY);

    at(10);
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await state(b, short.id)).toMatchObject({ status: 'revoked', revoked_reason: 'inactivity' });
    expect(await works(short, '', 'api:read')).toBe(401);

    at(24); // role iac in tenant A: 30 days
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await events(a, 'credential.inactivity_warning', iac.id)).toHaveLength(1);
    at(30);
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await state(a, iac.id)).toMatchObject({ status: 'revoked', revoked_reason: 'inactivity' });

    at(50);
    // A use the node has not written yet still counts: the job flushes usage first.
    expect(await works(used)).toBe(200);

    at(83); // 90 - 7: the idle key is warned once; the used one (day 50) is not
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await runJob('inactivity-revocation')).toBe(0);
    expect(await events(a, 'credential.inactivity_warning', idle.id)).toHaveLength(1);
    expect(await events(a, 'credential.inactivity_warning', used.id)).toHaveLength(0);
    at(89.9);
    expect(await runJob('inactivity-revocation')).toBe(0);
    expect(await state(a, idle.id)).toMatchObject({ status: 'active' });

    at(90);
    expect(await runJob('inactivity-revocation')).toBe(1);
    expect(await state(a, idle.id)).toMatchObject({ status: 'revoked', revoked_reason: 'inactivity' });
    expect(await works(idle)).toBe(401);
    expect(await works(used)).toBe(200);
    await server.runtime.services.usage.flush();
    expect(await state(a, used.id)).toMatchObject({ status: 'active' });
    const revokedEvents = await events(a, 'credential.revoked', idle.id);
    expect(revokedEvents).toHaveLength(1);
    expect(revokedEvents[0]?.details.reason).toBe('inactivity');

    at(200);
    await runJob('inactivity-revocation');
    const [vaultRow] = await server.sql<{ status: string }>('SELECT status FROM credentials WHERE id = ?', [vaulted.credential.id]);
    expect(vaultRow?.status).toBe('active');

    // Announced to webhooks: the warning, the revocation and the lock, signed and verified.
    await runJob('webhook-delivery');
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const aboutIdle = receiver.accepted.filter((r) => r.payload?.data.credential_id === idle.id).map((r) => r.payload?.type);
    expect(aboutIdle.sort()).toEqual(['credential.created', 'credential.inactivity_warning', 'credential.locked', 'credential.revoked']);
    const revokedPayload = receiver.accepted.find((r) => r.payload?.type === 'credential.revoked' && r.payload.data.credential_id === idle.id);
    expect(revokedPayload?.payload?.data.reason).toBe('inactivity');
  });

  it('records credential.expired once per expiry, again if the expiry moves and passes again', async () => {
    const expiring = await create(a, { scopes: ['api:read'], expires_at: new Date(clock.now().getTime() + HOUR).toISOString() });
    expect((await verify(server, a.verifier, { username: '', password: expiring.secret, protocol: 'api:read' })).status).toBe(200);
    expect(await runJob('credential-expiry')).toBe(0);
    clock.advance(2 * HOUR);
    expect((await verify(server, a.verifier, { username: '', password: expiring.secret, protocol: 'api:read' })).status).toBe(401);
    expect(await runJob('credential-expiry')).toBe(1);
    expect(await runJob('credential-expiry')).toBe(0);
    expect(await events(a, 'credential.expired', expiring.id)).toHaveLength(1);

    const later = new Date(clock.now().getTime() + DAY).toISOString();
    const extended = await call(server, 'PATCH', `/api/v1/tenants/${a.tenantId}/credentials/${expiring.id}`, { token: a.bearer, body: { expires_at: later } });
    expect(extended.status, extended.text).toBe(200);
    expect(await runJob('credential-expiry')).toBe(0);
    clock.advance(2 * DAY);
    expect(await runJob('credential-expiry')).toBe(1);
    expect(await events(a, 'credential.expired', expiring.id)).toHaveLength(2);
  });

  it('prunes sessions: inactive after a week unseen or when the key is revoked, deleted after 30 days', async () => {
    const live = await create(a, { scopes: ['smtp'], login_id: a.loginId });
    // Earlier tests logged in for real; start from only the sessions this test writes.
    await server.runtime.services.usage.flush();
    await server.sql('DELETE FROM credential_sessions WHERE tenant_id = ?', [a.tenantId]);
    const now = clock.now().getTime();
    const session = async (credentialId: string, lastSeenDaysAgo: number) => {
      const id = randomUUID();
      const seen = new Date(now - lastSeenDaysAgo * DAY).toISOString();
      await server.sql(
        `INSERT INTO credential_sessions (id, credential_id, tenant_id, ip_address, raw_user_agent, user_agent_family, user_agent_version,
          user_agent_major_version, os_family, os_version, device_family, device_brand, device_type, country, country_iso_code, protocol,
          is_active, created_at, modified_at, last_seen_at) VALUES (?, ?, ?, ?, ?, '', '', '', '', '', '', '', '', '', '', 'smtp', 1, ?, ?, ?)`,
        [id, credentialId, a.tenantId, '203.0.113.7', `ua-${id}`, seen, seen, seen],
      );
      return id;
    };
    const fresh = await session(live.id, 0);
    const stale = await session(live.id, 10);
    const ancient = await session(live.id, 40);
    const [revokedKey] = await server.sql<{ id: string }>("SELECT id FROM credentials WHERE tenant_id = ? AND status = 'revoked'", [a.tenantId]);
    const ofRevoked = await session(revokedKey?.id as string, 0);

    expect(await runJob('session-pruning')).toBe(3);
    const rows = await server.sql<{ id: string; is_active: number }>('SELECT id, is_active FROM credential_sessions WHERE tenant_id = ?', [a.tenantId]);
    const byId = new Map(rows.map((r) => [r.id, Number(r.is_active)]));
    expect(byId.get(fresh)).toBe(1);
    expect(byId.get(stale)).toBe(0);
    expect(byId.get(ofRevoked)).toBe(0);
    expect(byId.has(ancient)).toBe(false);
    expect(await runJob('session-pruning')).toBe(0);
  });
});
