// Issue 27 (webhooks): a webhook.test event goes out through the real signed delivery path; a
// signing-secret rotation shows the new secret once and, during the overlap, signs with both
// (two v1 signatures) so a receiver still holding the old secret keeps verifying; each endpoint
// reports its health (recent success rate, last success and failure, failures in a row).
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { type ReceivedDelivery, WebhookReceiver } from '../helpers/webhook-receiver.js';

function verifies(secret: string, delivery: ReceivedDelivery): boolean {
  try {
    new Webhook(secret).verify(delivery.body, {
      'webhook-id': delivery.id,
      'webhook-timestamp': delivery.timestamp,
      'webhook-signature': delivery.signature,
    });
    return true;
  } catch {
    return false;
  }
}

describe.each(DIALECTS)('webhook test events, secret rotation and health on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;
  const receiver = new WebhookReceiver();
  let webhookId = '';
  let firstSecret = '';

  const path = (suffix = '') => `/api/v1/tenants/${seed.tenantId}/webhooks/${webhookId}${suffix}`;
  const runDelivery = () => server.runtime.scheduler.run('webhook-delivery');

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    await receiver.start();
    seed = await seedTenant(server, 'Hooks');
    other = await seedTenant(server, 'Other');
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, {
      token: seed.adminToken,
      body: { url: receiver.url, events: ['credential.revoked'] },
    });
    expect(created.status, created.text).toBe(201);
    webhookId = created.body.id;
    firstSecret = created.body.secret;
    receiver.secret = firstSecret;
    expect(created.body.health).toMatchObject({ state: 'unused', attempted_24h: 0, success_rate_24h: null, consecutive_failures: 0 });
  }, 120_000);

  afterAll(async () => {
    await receiver.stop();
    await server?.close();
  });

  it('sends a signed webhook.test event to one endpoint through the delivery job, and counts it as a success', async () => {
    const before = receiver.received.length;
    const queued = await call(server, 'POST', path('/test'), { token: seed.bearer });
    expect(queued.status, queued.text).toBe(202);
    expect(queued.body).toMatchObject({ webhook_id: webhookId, event_type: 'webhook.test', status: 'pending', attempts: 0 });
    // Not sent inline: the delivery job sends it, signed, like every other delivery.
    expect(receiver.received.length).toBe(before);
    await runDelivery();
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ id: queued.body.id, verified: true, answered: 204 });
    expect(got[0]?.payload).toMatchObject({ type: 'webhook.test', data: { tenant_id: seed.tenantId, webhook_id: webhookId, test: true } });
    // The endpoint subscribes to credential.revoked only: a test event still reaches it, and only it.
    const deliveries = await call(server, 'GET', path('/deliveries'), { token: seed.adminToken });
    expect(deliveries.body.data[0]).toMatchObject({ id: queued.body.id, status: 'delivered', attempts: 1, last_status_code: 204 });

    const endpoint = await call(server, 'GET', path(), { token: seed.adminToken });
    expect(endpoint.body.health).toMatchObject({ state: 'healthy', attempted_24h: 1, success_rate_24h: 1, consecutive_failures: 0, last_failure_at: null });
    expect(endpoint.body.health.last_success_at).toMatch(/^\d{4}-/);

    const audit = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=webhook.test_requested`, { token: seed.adminToken });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ target: { type: 'webhook', id: webhookId } });
  });

  it('rotates the signing secret: shown once, the old one signs beside it during the overlap, then only the new one', async () => {
    const rotated = await call(server, 'POST', path('/rotate-secret'), { token: seed.bearer });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const second = rotated.body.secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(firstSecret);
    const overlapEnds = Date.parse(rotated.body.previous_secret_expires_at);
    expect(overlapEnds - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect(overlapEnds - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    expect(rotated.body.secret_rotated_at).toMatch(/^\d{4}-/);
    // Never again: not in reads, not in the audit trail, not in the database.
    const read = await call(server, 'GET', path(), { token: seed.adminToken });
    expect(read.text).not.toContain(second.slice(6));
    expect(read.body.previous_secret_expires_at).toBe(rotated.body.previous_secret_expires_at);
    const audit = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=webhook.secret_rotated`, { token: seed.adminToken });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].details).toMatchObject({ overlap_seconds: 86_400 });
    expect(audit.text).not.toContain(second.slice(6));
    const rows = await server.sql<Record<string, unknown>>('SELECT * FROM webhook_endpoints WHERE id = ?', [webhookId]);
    expect(JSON.stringify(rows)).not.toContain(second.slice(6));
    expect(JSON.stringify(rows)).not.toContain(firstSecret.slice(6));

    // During the overlap: two signatures; a receiver with either secret verifies.
    const before = receiver.received.length;
    expect((await call(server, 'POST', path('/test'), { token: seed.bearer })).status).toBe(202);
    await runDelivery();
    const during = receiver.received[before] as ReceivedDelivery;
    expect(during.verified).toBe(true);
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(during.signature.split(' ').every((s) => s.startsWith('v1,'))).toBe(true);
    expect(verifies(firstSecret, during)).toBe(true);
    expect(verifies(second, during)).toBe(true);

    // overlap_seconds 0 (a leaked secret): only the newest signs, at once.
    const third = await call(server, 'POST', path('/rotate-secret'), { token: seed.adminToken, body: { overlap_seconds: 0 } });
    expect(third.status, third.text).toBe(200);
    expect(third.body.previous_secret_expires_at).toBeNull();
    receiver.secret = third.body.secret;
    expect((await call(server, 'POST', path('/test'), { token: seed.bearer })).status).toBe(202);
    await runDelivery();
    const after = receiver.received.at(-1) as ReceivedDelivery;
    expect(after.verified).toBe(true);
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(verifies(second, after)).toBe(false);
    expect(verifies(firstSecret, after)).toBe(false);
  });

  it('reports a failing endpoint: failures in a row, the last error, the success rate', async () => {
    receiver.mode = 'fail';
    try {
      for (let i = 0; i < 2; i += 1) {
        expect((await call(server, 'POST', path('/test'), { token: seed.bearer })).status).toBe(202);
        await runDelivery();
      }
    } finally {
      receiver.mode = 'ok';
    }
    const endpoint = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.adminToken });
    const health = endpoint.body.data.find((w: { id: string }) => w.id === webhookId).health;
    expect(health).toMatchObject({ state: 'failing', consecutive_failures: 2, last_failure_error: 'HTTP 503', attempted_24h: 5 });
    expect(health.success_rate_24h).toBeCloseTo(3 / 5, 5);
    expect(health.last_failure_at >= health.last_success_at).toBe(true);
    // Disabled: said so, and no test event is queued for it.
    expect((await call(server, 'PATCH', path(), { token: seed.bearer, body: { enabled: false } })).status).toBe(200);
    const refused = await call(server, 'POST', path('/test'), { token: seed.bearer });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/disabled/);
    const disabled = await call(server, 'GET', path(), { token: seed.bearer });
    expect(disabled.body.health.state).toBe('disabled');
    expect((await call(server, 'PATCH', path(), { token: seed.bearer, body: { enabled: true } })).status).toBe(200);
  });

  it('refuses bad input with a 4xx that names it, and other tenants see nothing', async () => {
    for (const body of [{ overlap_seconds: -1 }, { overlap_seconds: 'soon' }, { overlap_seconds: 8 * 86_400 }, { overlap: 5 }]) {
      const response = await call(server, 'POST', path('/rotate-secret'), { token: seed.bearer, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message).toMatch(/overlap/);
    }
    const unknown = `/api/v1/tenants/${seed.tenantId}/webhooks/00000000-0000-4000-8000-000000000000`;
    expect((await call(server, 'POST', `${unknown}/test`, { token: seed.bearer })).status).toBe(404);
    expect((await call(server, 'POST', `${unknown}/rotate-secret`, { token: seed.bearer })).status).toBe(404);
    // Another tenant's token: 404 (it must not learn the endpoint exists); a login-bound one: 403.
    expect((await call(server, 'POST', path('/test'), { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'POST', path('/rotate-secret'), { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'POST', path('/test'), { token: seed.loginBearer })).status).toBe(403);
    expect((await call(server, 'POST', path('/rotate-secret'), { token: seed.loginBearer })).status).toBe(403);
    const audit = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=webhook.secret_rotated`, { token: seed.adminToken });
    expect(audit.body.data).toHaveLength(2);
  });
});
