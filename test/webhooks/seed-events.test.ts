// The seed surfaces' documented webhooks reach a real receiver that verifies each delivery with
// the standardwebhooks library: seed 001 `revoke` and `regenerate` each lock the OLD credential
// (CredentialLocked), seed 002 DELETE and seed 003 PUT .../revoke announce credential.revoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { type ReceivedDelivery, WebhookReceiver } from '../helpers/webhook-receiver.js';

describe.each(DIALECTS)('seed surface webhooks on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock(new Date());
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    seed = await seedTenant(server, 'Hooks');
    await receiver.start();
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url: receiver.url } });
    expect(created.status).toBe(201);
    receiver.secret = created.body.secret;
  });
  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  /** Delivers what is due and returns what arrived since `from`, all verified by signature. */
  async function deliver(from: number): Promise<ReceivedDelivery[]> {
    const run = await server.runtime.scheduler.run('webhook-delivery');
    expect(run.outcome).toBe('ok');
    const arrived = receiver.received.slice(from);
    for (const delivery of arrived) {
      expect(delivery.verified).toBe(true);
      expect(delivery.answered).toBe(204);
    }
    return arrived;
  }
  const about = (deliveries: ReceivedDelivery[], id: string) =>
    deliveries
      .filter((d) => d.payload?.data.credential_id === id)
      .map((d) => d.payload?.type)
      .sort();

  const seed001 = async (operation: string, body: Record<string, unknown>) => {
    const response = await call(server, 'POST', `/api/v1/credentials/${operation}`, { headers: { 'X-Server-API-Key': seed.server }, body });
    expect(response.status, response.text).toBe(200);
    return response.body.data;
  };

  it('seed 001 revoke emits credential.locked for the credential', async () => {
    const created = await seed001('create', { name: 'Relay A' });
    await deliver(receiver.received.length);
    const from = receiver.received.length;
    await seed001('revoke', { uuid: created.uuid });
    const arrived = await deliver(from);
    expect(about(arrived, created.uuid)).toEqual(['credential.locked']);
    const locked = arrived.find((d) => d.payload?.type === 'credential.locked');
    expect(locked?.payload?.data).toMatchObject({ tenant_id: seed.tenantId, credential_id: created.uuid });
    expect(locked?.body).not.toContain(created.key);
  });

  it('seed 001 regenerate emits credential.locked for the OLD credential', async () => {
    const created = await seed001('create', { name: 'Relay B' });
    await deliver(receiver.received.length);
    const from = receiver.received.length;
    const regenerated = await seed001('regenerate', { uuid: created.uuid });
    expect(regenerated.old_uuid).toBe(created.uuid);
    const arrived = await deliver(from);
    const locks = arrived.filter((d) => d.payload?.type === 'credential.locked');
    expect(locks).toHaveLength(1);
    expect(locks[0]?.payload?.data).toMatchObject({ tenant_id: seed.tenantId, credential_id: created.uuid });
    // The successor is announced as created, never as locked.
    expect(about(arrived, regenerated.new_uuid)).toEqual(['credential.created']);
    for (const delivery of arrived) {
      expect(delivery.body).not.toContain(created.key);
      expect(delivery.body).not.toContain(regenerated.key);
    }
  });

  it('seed 002 DELETE and seed 003 PUT revoke emit credential.revoked', async () => {
    const key002 = await call(server, 'POST', '/api/smtp-credentials', { token: seed.loginBearer, body: { name: 'Phone', scopes: ['smtp'] } });
    expect(key002.status).toBe(201);
    const key003 = await call(server, 'POST', '/api/v1/account/api_key', { token: seed.bearer, body: { role: 'standard', name: 'CI' } });
    expect(key003.status).toBe(201);
    await deliver(receiver.received.length);
    const from = receiver.received.length;

    expect((await call(server, 'DELETE', `/api/smtp-credentials/${key002.body.id}`, { token: seed.loginBearer })).status).toBe(204);
    expect((await call(server, 'PUT', `/api/v1/account/api_key/${key003.body.ID}/revoke`, { token: seed.bearer })).status).toBe(200);
    const arrived = await deliver(from);
    for (const id of [key002.body.id as string, key003.body.ID as string]) {
      expect(about(arrived, id)).toContain('credential.revoked');
      const revoked = arrived.find((d) => d.payload?.type === 'credential.revoked' && d.payload.data.credential_id === id);
      expect(revoked?.payload?.data.tenant_id).toBe(seed.tenantId);
    }
  });
});
