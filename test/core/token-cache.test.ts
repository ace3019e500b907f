// Management and verifier tokens are cached for a few seconds after their first use, keyed so that
// a cached token is answered without the key parse and the peppered HMAC (the verify path pays
// one HMAC per request, for the key, not two). Revocation still takes effect at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('token cache', () => {
  let server: TestServer;
  let seed: SeededTenant;
  let hmacs = 0;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    seed = await seedTenant(server);
    const context = server.runtime.services.context;
    const hashSecret = context.hashSecret;
    context.hashSecret = (secret) => {
      hmacs += 1;
      return hashSecret(secret);
    };
  }, 120_000);
  afterAll(async () => server?.close());

  const listCredentials = async (token: string) => (await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials`, { token })).status;

  it('a token seen before costs no HMAC; a verification costs one, for the key', async () => {
    hmacs = 0;
    expect(await listCredentials(seed.bearer)).toBe(200);
    expect(hmacs).toBe(1);
    expect(await listCredentials(seed.bearer)).toBe(200);
    expect(hmacs).toBe(1);

    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'cached token', scopes: ['smtp'], login_id: seed.loginId },
    });
    expect(created.status).toBe(201);
    const attempt = async () => (await verify(server, seed.verifier, { username: seed.loginAddress, password: created.body.secret, protocol: 'smtp' })).status;
    expect(await attempt()).toBe(200);
    hmacs = 0;
    expect(await attempt()).toBe(200);
    expect(await attempt()).toBe(200);
    expect(hmacs).toBe(2);
  });

  it('a revoked token is refused at once, and a garbled one without a lookup', async () => {
    expect(await listCredentials(seed.loginBearer)).toBe(200);
    const tokens = await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/tokens`, { token: seed.adminToken });
    expect(tokens.status).toBe(200);
    const bearer = (tokens.body.data as { id: string; name: string }[]).find((token) => token.name === 'alice bearer');
    expect(bearer).toBeDefined();
    const revoked = await call(server, 'DELETE', `/api/v1/tenants/${seed.tenantId}/tokens/${bearer?.id}`, { token: seed.adminToken });
    expect(revoked.status).toBe(204);
    expect(await listCredentials(seed.loginBearer)).toBe(401);

    hmacs = 0;
    expect(await listCredentials(`${seed.bearer.slice(0, -1)}${seed.bearer.endsWith('x') ? 'y' : 'x'}`)).toBe(401);
    expect(hmacs).toBe(0);
  });
});
