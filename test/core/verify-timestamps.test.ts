// The verify cache compares expiry and grace as epoch ms. A timestamp that does not parse
// (a hand-edited row, say) must deny, never allow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('verify timestamps on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server);
  }, 120_000);
  afterAll(async () => server?.close());

  async function credential(body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'timestamps', scopes: ['app'], login_id: seed.loginId, ...body },
    });
    expect(created.status).toBe(201);
    return { id: created.body.id, secret: created.body.secret };
  }

  const attempt = (secret: string) => verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'imap' });

  it('allows before expiry, and denies when expires_at does not parse', async () => {
    const future = await credential({ expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await attempt(future.secret)).status).toBe(200);

    const unreadable = await credential({ expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    await server.sql('update credentials set expires_at = ? where id = ?', ['not a timestamp', unreadable.id]);
    server.runtime.services.verifier.invalidateAll();
    expect((await attempt(unreadable.secret)).status).toBe(401);
  });

  it('a revoked key works only inside its grace period, and not when grace_until does not parse', async () => {
    const rotated = await credential();
    const rotation = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${rotated.id}/rotate`, {
      token: seed.bearer,
      body: { grace_period_seconds: 600 },
    });
    expect(rotation.status).toBe(201);
    expect((await attempt(rotated.secret)).status).toBe(200);

    await server.sql('update credentials set grace_until = ? where id = ?', ['garbage', rotated.id]);
    server.runtime.services.verifier.invalidateAll();
    expect((await attempt(rotated.secret)).status).toBe(401);
  });
});
