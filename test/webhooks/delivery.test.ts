// Outbox delivery to a real receiver that verifies every request with the standardwebhooks
// library: event mapping, filters, retries on a moved clock, dead letters, redelivery with the
// same webhook-id, and the job and metrics views.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, ManualClock, MINUTE } from '../../src/clock.js';
import { recordEvent } from '../../src/domain/context.js';
import { SYSTEM_ACTOR } from '../../src/domain/types.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECOND = 1000;

describe.each(DIALECTS)('webhook delivery on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock(new Date());
  const receiver = new WebhookReceiver();
  const lockedOnly = new WebhookReceiver();
  let webhookId: string;
  const secrets: string[] = [];

  const runJob = (name: string) => server.runtime.scheduler.run(name);
  const credentials = `/api/v1/tenants/${'TENANT'}/credentials`;
  const url = (p: string) => p.replace('TENANT', seed.tenantId);
  const deliveriesOf = async (id: string, query = '') =>
    (await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/webhooks/${id}/deliveries?per_page=200${query}`, { token: seed.bearer })).body;
  const createCredential = async (body: Record<string, unknown> = {}) => {
    const created = await call(server, 'POST', url(credentials), { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], ...body } });
    expect(created.status).toBe(201);
    secrets.push(created.body.secret);
    return created.body as { id: string; secret: string };
  };

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    seed = await seedTenant(server);
    await receiver.start();
    await lockedOnly.start();
    const all = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url: receiver.url } });
    receiver.secret = all.body.secret;
    webhookId = all.body.id;
    const filtered = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, {
      token: seed.bearer,
      body: { url: lockedOnly.url, events: ['credential.locked'] },
    });
    lockedOnly.secret = filtered.body.secret;
    // A disabled endpoint gets nothing.
    await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url: `${receiver.url}?disabled`, enabled: false } });
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
    await lockedOnly.stop();
  });

  it('maps every change to signed {type, timestamp, data} deliveries with ids only', async () => {
    const first = await createCredential();
    await call(server, 'POST', url(`${credentials}/${first.id}/hold`), { token: seed.bearer });
    await call(server, 'POST', url(`${credentials}/${first.id}/unhold`), { token: seed.bearer });
    const rotated = await call(server, 'POST', url(`${credentials}/${first.id}/rotate`), { token: seed.bearer, body: {} });
    secrets.push(rotated.body.secret);
    await call(server, 'POST', url(`${credentials}/${rotated.body.id}/revoke`), { token: seed.bearer, body: { reason: 'lost laptop' } });
    const expiring = await createCredential({ expires_at: new Date(clock.now().getTime() + HOUR).toISOString() });
    clock.advance(2 * HOUR);
    expect((await runJob('credential-expiry')).items).toBe(1);
    expect((await runJob('credential-expiry')).items).toBe(0);
    // The vault records these; here they are recorded the same way, through recordEvent.
    const context = server.runtime.services.context;
    for (const event of ['smtp_credentials_rotated', 'smtp_credentials_emergency_reset']) {
      await server.runtime.store.transaction((repositories) =>
        recordEvent(context, repositories, {
          tenantId: seed.tenantId,
          event,
          actor: SYSTEM_ACTOR,
          occurredAt: clock.now().toISOString(),
          targetType: 'smtp_account',
          targetId: 'acct-1',
        }),
      );
    }
    // A rolled-back change leaves no delivery behind.
    const before = await server.sql<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_deliveries');
    await expect(
      server.runtime.store.transaction(async (repositories) => {
        await recordEvent(context, repositories, {
          tenantId: seed.tenantId,
          event: 'credential.held',
          actor: SYSTEM_ACTOR,
          occurredAt: clock.now().toISOString(),
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(Number((await server.sql<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_deliveries'))[0]?.n)).toBe(Number(before[0]?.n));

    const run = await runJob('webhook-delivery');
    expect(run.outcome).toBe('ok');
    expect(run.items).toBeGreaterThanOrEqual(13);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const types = receiver.accepted.map((r) => r.payload?.type).sort();
    expect(types).toEqual(
      [
        'credential.created', // first
        'credential.locked', // hold
        'credential.revoked', // rotation: the old key (reason rotated)
        'credential.created', // rotation: the successor
        'credential.rotated',
        'credential.locked', // rotation locks the old key once
        'credential.revoked', // revoke
        'credential.locked', // revoke
        'credential.created', // expiring
        'credential.expired',
        'smtp_credentials.rotated',
        'smtp_credentials.emergency_reset',
      ].sort(),
    );
    expect(new Set(receiver.accepted.map((r) => r.id)).size).toBe(receiver.accepted.length);
    for (const delivery of receiver.accepted) {
      expect(delivery.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Object.keys(delivery.payload ?? {}).sort()).toEqual(['data', 'timestamp', 'type']);
      expect(delivery.payload?.data.tenant_id).toBe(seed.tenantId);
      for (const secret of secrets) expect(delivery.body).not.toContain(secret);
    }
    const expired = receiver.accepted.find((r) => r.payload?.type === 'credential.expired');
    expect(expired?.payload?.data).toMatchObject({ credential_id: expiring.id });
    const rotatedEvent = receiver.accepted.find((r) => r.payload?.type === 'credential.rotated');
    expect(rotatedEvent?.payload?.data).toMatchObject({ credential_id: first.id, new_credential_id: rotated.body.id });
    const revokeLock = receiver.accepted.filter((r) => r.payload?.type === 'credential.locked' && r.payload.data.credential_id === rotated.body.id);
    expect(revokeLock).toHaveLength(1);

    // The filtered endpoint got exactly the three locks.
    expect(lockedOnly.accepted.map((r) => r.payload?.type)).toEqual(['credential.locked', 'credential.locked', 'credential.locked']);
    expect(receiver.received.some((r) => r.id && r.body.includes('disabled'))).toBe(false);
    const listed = await deliveriesOf(webhookId, '&status=delivered');
    expect(listed.pagination.total).toBe(12);
    expect(listed.data.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    expect((await runJob('webhook-delivery')).items).toBe(0);
  });

  it('retries on a schedule while the receiver is failing or down, keeping the webhook-id', async () => {
    receiver.mode = 'fail';
    const created = await createCredential();
    expect((await runJob('webhook-delivery')).items).toBe(1); // answered 503
    const [pending] = (await deliveriesOf(webhookId, '&status=pending')).data;
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'HTTP 503' });
    const wait = new Date(pending.next_attempt_at).getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(5 * SECOND);
    expect(wait).toBeLessThanOrEqual(6 * SECOND);

    await receiver.stop(); // now really down: connection refused
    expect((await runJob('webhook-delivery')).items).toBe(0); // not due yet
    clock.advance(7 * SECOND);
    expect((await runJob('webhook-delivery')).items).toBe(1);
    const [second] = (await deliveriesOf(webhookId, '&status=pending')).data;
    expect(second).toMatchObject({ id: pending.id, attempts: 2, last_status_code: null });
    expect(second.last_error).toMatch(/ECONNREFUSED/);
    const secondWait = new Date(second.next_attempt_at).getTime() - clock.now().getTime();
    expect(secondWait).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(secondWait).toBeLessThanOrEqual(6 * MINUTE);

    receiver.mode = 'ok';
    await receiver.start(); // same port
    clock.advance(6 * MINUTE + 5 * SECOND);
    expect((await runJob('webhook-delivery')).items).toBe(1);
    const attempts = receiver.received.filter((r) => r.id === pending.id);
    expect(attempts.map((a) => a.answered)).toEqual([503, 204]);
    expect(attempts[1]?.payload?.data.credential_id).toBe(created.id);
    const done = (await deliveriesOf(webhookId)).data.find((d: { id: string }) => d.id === pending.id);
    expect(done).toMatchObject({ status: 'delivered', attempts: 3, next_attempt_at: null });
  });

  it('dead-letters after the schedule is spent; a redelivery keeps its webhook-id', async () => {
    receiver.mode = 'fail';
    await createCredential();
    for (let attempt = 1; attempt <= 7; attempt += 1) {
      expect((await runJob('webhook-delivery')).items).toBe(1);
      clock.advance(12 * HOUR);
    }
    expect((await runJob('webhook-delivery')).items).toBe(0);
    const [dead] = (await deliveriesOf(webhookId, '&status=dead')).data;
    expect(dead).toMatchObject({ status: 'dead', attempts: 7, last_status_code: 503 });
    expect(receiver.received.filter((r) => r.id === dead.id)).toHaveLength(7);

    receiver.mode = 'ok';
    const redeliver = (id: string, token = seed.bearer) =>
      call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhook-deliveries/${id}/redeliver`, { token });
    const requeued = await redeliver(dead.id);
    expect(requeued.status).toBe(202);
    expect(requeued.body).toMatchObject({ id: dead.id, status: 'pending', attempts: 0 });
    expect((await runJob('webhook-delivery')).items).toBe(1);
    const arrivals = receiver.accepted.filter((r) => r.id === dead.id);
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]?.body).toBe(dead && JSON.stringify(dead.payload));

    // Redelivering a delivered message sends it again under the same id.
    expect((await redeliver(dead.id)).status).toBe(202);
    await runJob('webhook-delivery');
    expect(receiver.accepted.filter((r) => r.id === dead.id)).toHaveLength(2);
    // Unknown or other-tenant deliveries are 404.
    expect((await redeliver('msg_0000')).status).toBe(404);
    const other = await seedTenant(server, 'Other');
    expect((await call(server, 'POST', `/api/v1/tenants/${other.tenantId}/webhook-deliveries/${dead.id}/redeliver`, { token: other.bearer })).status).toBe(404);
    expect((await redeliver(dead.id, other.bearer)).status).toBe(404);
  });

  it('shows job runs to admins and counts runs and deliveries in /metrics', async () => {
    // The clock moved days ahead: the seeded admin session has expired.
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } });
    seed.adminToken = login.body.token;
    const jobs = await call(server, 'GET', '/api/v1/jobs', { token: seed.adminToken });
    expect(jobs.status).toBe(200);
    const byName = Object.fromEntries(jobs.body.data.map((j: { job: string }) => [j.job, j]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['credential-expiry', 'inactivity-revocation', 'session-pruning', 'webhook-delivery']));
    expect(byName['webhook-delivery'].last_run).toMatchObject({ job: 'webhook-delivery', outcome: 'ok', error: null });
    expect(byName['webhook-delivery'].last_run.items).toBeTypeOf('number');
    expect(byName['webhook-delivery'].last_run.node_id).toEqual(server.runtime.scheduler.nodeId);
    expect(byName['session-pruning'].last_run).toBeNull();

    const runs = await call(server, 'GET', '/api/v1/jobs/runs?job=credential-expiry&per_page=1', { token: seed.adminToken });
    expect(runs.body.pagination).toEqual({ page: 1, per_page: 1, total: 2 });
    expect(runs.body.data[0]).toMatchObject({ job: 'credential-expiry', outcome: 'ok' });
    expect(typeof runs.body.data[0].duration_ms).toBe('number');
    expect((await call(server, 'GET', '/api/v1/jobs', { token: seed.bearer })).status).toBe(403);
    expect((await call(server, 'GET', '/api/v1/jobs/runs')).status).toBe(401);

    const metrics = await call(server, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/relaykey_job_runs_total\{job="webhook-delivery",outcome="ok"\} \d+/);
    expect(metrics.text).toMatch(/relaykey_webhook_deliveries_total\{outcome="delivered"\} (\d+)/);
    expect(metrics.text).toMatch(/relaykey_webhook_deliveries_total\{outcome="dead"\} 1/);
    expect(metrics.text).toMatch(/relaykey_job_duration_seconds_count\{job="credential-expiry"\} 2/);
    expect(metrics.text).not.toContain('whsec_');
    for (const secret of secrets) expect(metrics.text).not.toContain(secret);
  });
});
