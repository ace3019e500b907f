// GET /api/v1/admins: the platform admins by id and email (the console names an audit event's
// admin actor with it), TOTP on or off, never a password hash or TOTP secret; admins only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('admin list on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    seed = await seedTenant(server, 'Admins');
    await server.cliJson(['admin', 'create', '--email', 'totp-admin@admins.test', '--password', 'another long password', '--totp-secret', 'JBSWY3DPEHPK3PXP']);
  });
  afterAll(async () => server?.close());

  it('lists every admin with email and TOTP state, and no secret', async () => {
    const listed = await call(server, 'GET', '/api/v1/admins', { token: seed.adminToken });
    expect(listed.status, listed.text).toBe(200);
    const byEmail = new Map(listed.body.data.map((a: { email: string }) => [a.email, a]));
    expect(byEmail.get(seed.adminEmail)).toMatchObject({ totp_enabled: false });
    expect(byEmail.get('totp-admin@admins.test')).toMatchObject({ totp_enabled: true });
    // The id is the one audit events name as their admin actor.
    const events = await call(server, 'GET', '/api/v1/audit-events?event=admin.login', { token: seed.adminToken });
    const actorIds = new Set(events.body.data.map((e: { actor: { id: string } }) => e.actor.id));
    expect(actorIds.has((byEmail.get(seed.adminEmail) as { id: string }).id)).toBe(true);
    expect(listed.text).not.toMatch(/argon2|JBSWY3DPEHPK3PXP|password/i);
  });

  it('answers tenant tokens and no token with a refusal', async () => {
    expect((await call(server, 'GET', '/api/v1/admins', { token: seed.bearer })).status).toBe(403);
    expect((await call(server, 'GET', '/api/v1/admins')).status).toBe(401);
  });
});
