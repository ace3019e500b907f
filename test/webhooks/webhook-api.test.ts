// Webhook endpoints through the native API and the CLI: secret shown once in whsec_ form,
// filters, enable flag, tenant isolation, and URL safety (also after DNS resolution).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('webhook endpoints on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let other: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '127.0.0.0/8' } });
    seed = await seedTenant(server);
    other = await seedTenant(server, 'Other');
  });
  afterAll(async () => server?.close());

  const path = (tenantId = seed.tenantId) => `/api/v1/tenants/${tenantId}/webhooks`;

  it('creates with a whsec_ secret shown once; lists, gets, patches and deletes', async () => {
    const created = await call(server, 'POST', path(), {
      token: seed.bearer,
      body: { url: 'http://127.0.0.1:9/hook', events: ['credential.locked', 'credential.created'], description: 'platform' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      tenant_id: seed.tenantId,
      url: 'http://127.0.0.1:9/hook',
      events: ['credential.created', 'credential.locked'],
      enabled: true,
    });
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = created.body.id as string;

    const list = await call(server, 'GET', path(), { token: seed.adminToken });
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: { id: string }) => w.id)).toContain(id);
    expect(list.text).not.toContain(secret.slice(6));
    const got = await call(server, 'GET', `${path()}/${id}`, { token: seed.bearer });
    expect(got.body.secret).toBeUndefined();
    expect(got.text).not.toContain(secret.slice(6));
    // Stored encrypted: the database never holds the plaintext secret.
    const rows = await server.sql<Record<string, unknown>>('SELECT * FROM webhook_endpoints WHERE id = ?', [id]);
    expect(JSON.stringify(rows)).not.toContain(secret.slice(6));

    const patched = await call(server, 'PATCH', `${path()}/${id}`, { token: seed.bearer, body: { enabled: false, events: [] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, events: [] });

    const audit = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=webhook.created,webhook.updated`, { token: seed.bearer });
    expect(audit.body.data.map((e: { event: string }) => e.event).sort()).toEqual(['webhook.created', 'webhook.updated']);

    expect((await call(server, 'DELETE', `${path()}/${id}`, { token: seed.bearer })).status).toBe(204);
    expect((await call(server, 'GET', `${path()}/${id}`, { token: seed.bearer })).status).toBe(404);
    expect((await call(server, 'DELETE', `${path()}/${id}`, { token: seed.bearer })).status).toBe(404);
  });

  it('documents the webhook and job routes in OpenAPI', async () => {
    const spec = await call(server, 'GET', '/openapi.json');
    expect(spec.status).toBe(200);
    for (const route of [
      '/api/v1/tenants/{tenantId}/webhooks',
      '/api/v1/tenants/{tenantId}/webhooks/{webhookId}',
      '/api/v1/tenants/{tenantId}/webhooks/{webhookId}/deliveries',
      '/api/v1/tenants/{tenantId}/webhook-deliveries/{deliveryId}/redeliver',
      '/api/v1/jobs',
      '/api/v1/jobs/runs',
    ]) {
      expect(Object.keys(spec.body.paths)).toContain(route);
    }
  });

  it('the CLI creates an endpoint and prints {id, secret}', async () => {
    const out = await server.cliJson<{ id: string; secret: string; events: string[] }>([
      'webhook',
      'create',
      '--tenant',
      seed.tenantId,
      '--url',
      'http://127.0.0.1:9/cli',
      '--events',
      'credential.revoked,smtp_credentials.rotated',
    ]);
    expect(out.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.secret).toMatch(/^whsec_/);
    expect(out.events).toEqual(['credential.revoked', 'smtp_credentials.rotated']);
    const got = await call(server, 'GET', `${path()}/${out.id}`, { token: seed.adminToken });
    expect(got.status).toBe(200);
    const bad = await server.cli(['webhook', 'create', '--tenant', seed.tenantId, '--url', 'http://127.0.0.1:9/x', '--events', 'nope.nope', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown webhook event type "nope.nope"');
    const unsafe = await server.cli(['webhook', 'create', '--tenant', seed.tenantId, '--url', 'http://10.0.0.8/x', '--json']);
    expect(unsafe.code).toBe(2);
  });

  it('rejects bad input with 400 naming the problem and writes nothing', async () => {
    const before = await server.sql<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_endpoints');
    const cases: Array<[unknown, RegExp]> = [
      [{ url: 'ftp://127.0.0.1/x' }, /body\.url/],
      [{ url: 'not a url at all' }, /body\.url/],
      [{ url: 'http://127.0.0.1:9/x', events: ['credential.nonsense'] }, /body\.events\[0\]/],
      [{ url: 'http://127.0.0.1:9/x', surprise: 1 }, /unknown field "surprise"/],
      [{ url: 'http://10.1.2.3/hook' }, /10\.1\.2\.3.*private/],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, /169\.254\.169\.254/],
      [{ url: 'http://[::1]:8080/hook' }, /::1/],
      [{ url: 'http://[::ffff:192.168.1.1]/hook' }, /loopback, private/],
      [{ url: 'https://user:pw@example.com/hook' }, /credentials/],
    ];
    for (const [body, message] of cases) {
      const response = await call(server, 'POST', path(), { token: seed.bearer, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message).toMatch(message);
    }
    const after = await server.sql<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_endpoints');
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n));
  });

  it('isolates tenants: another tenant, a login-bound token and no token are refused', async () => {
    const mine = await call(server, 'POST', path(), { token: seed.bearer, body: { url: 'http://127.0.0.1:9/mine' } });
    const id = mine.body.id as string;
    expect((await call(server, 'GET', path(), { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'GET', `${path()}/${id}`, { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'GET', `${path(other.tenantId)}/${id}`, { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'PATCH', `${path(other.tenantId)}/${id}`, { token: other.bearer, body: { enabled: false } })).status).toBe(404);
    expect((await call(server, 'DELETE', `${path(other.tenantId)}/${id}`, { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'GET', `${path(other.tenantId)}/${id}/deliveries`, { token: other.bearer })).status).toBe(404);
    expect((await call(server, 'GET', path(), { token: seed.loginBearer })).status).toBe(403);
    expect((await call(server, 'GET', path(), { token: seed.server })).status).toBe(403);
    expect((await call(server, 'GET', path())).status).toBe(401);
    expect((await call(server, 'GET', `${path()}/${id}`, { token: seed.bearer })).status).toBe(200);
  });
});

describe('webhook URL safety without an allow list', () => {
  let server: TestServer;
  let seed: SeededTenant;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { env: { RELAYKEY_JOBS: 'off', RELAYKEY_WEBHOOK_ALLOW_NETWORKS: '' } });
    seed = await seedTenant(server);
  });
  afterAll(async () => server?.close());

  it('refuses loopback by literal and after DNS resolution (localhost)', async () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://localhost:8080/x', 'http://0.0.0.0/x', 'http://192.168.0.10/x', 'http://100.64.0.1/x']) {
      const response = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/webhooks`, { token: seed.bearer, body: { url } });
      expect(response.status, url).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});
