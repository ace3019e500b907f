// Admin sessions are visible and can be ended one by one or everywhere; an idle session ends;
// a sign-in beyond the limit ends the least recently used. Verifier tokens are listed with
// their last use and revoked (HTTP and CLI), and several may be live at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('admin sessions and verifier tokens on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_ADMIN_IDLE_MINUTES: '30', RELAYKEY_ADMIN_MAX_SESSIONS: '3' } });
    seed = await seedTenant(server, 'Sessions');
  });
  afterAll(async () => server?.close());

  const signIn = async () =>
    (await call(server, 'POST', '/api/v1/auth/login', { body: { email: seed.adminEmail, password: seed.adminPassword } })).body.token as string;
  const works = async (token: string) => (await call(server, 'GET', '/api/v1/tenants', { token })).status === 200;

  it('lists the sessions, ends one, and signs out everywhere', async () => {
    const a = await signIn();
    const b = await signIn();
    const listed = await call(server, 'GET', '/api/v1/auth/sessions', { token: a });
    expect(listed.status).toBe(200);
    const live = listed.body.data.filter((s: { live: boolean }) => s.live);
    expect(live.length).toBeGreaterThanOrEqual(2);
    expect(listed.body.data.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(Object.keys(listed.body.data[0]).sort()).toEqual(['client_ip', 'created_at', 'current', 'expires_at', 'id', 'last_seen_at', 'live', 'revoked_at']);
    expect(listed.text).not.toMatch(/rka_/);

    const bId = (await call(server, 'GET', '/api/v1/auth/sessions', { token: b })).body.data.find((s: { current: boolean }) => s.current).id;
    expect((await call(server, 'DELETE', `/api/v1/auth/sessions/${bId}`, { token: a })).status).toBe(204);
    expect(await works(b)).toBe(false);
    expect(await works(a)).toBe(true);
    expect((await call(server, 'DELETE', `/api/v1/auth/sessions/${bId}`, { token: a })).status).toBe(409);
    expect((await call(server, 'DELETE', '/api/v1/auth/sessions/00000000-0000-4000-8000-000000000000', { token: a })).status).toBe(404);

    const everywhere = await call(server, 'POST', '/api/v1/auth/sessions/end-all', { token: a });
    expect(everywhere.status).toBe(200);
    expect(await works(a)).toBe(false);
    expect(await works(seed.adminToken)).toBe(false);
    seed.adminToken = await signIn();
  });

  it('ends a session left idle for RELAYKEY_ADMIN_IDLE_MINUTES, and one in use stays', async () => {
    const idle = await signIn();
    const busy = await signIn();
    for (let i = 0; i < 4; i += 1) {
      clock.advance(10 * MINUTE);
      expect(await works(busy)).toBe(true);
    }
    expect(await works(idle)).toBe(false);
    seed.adminToken = busy;
  });

  it('keeps at most RELAYKEY_ADMIN_MAX_SESSIONS live sessions: the least recently used ends', async () => {
    const first = await signIn();
    clock.advance(2 * MINUTE);
    const others = [await signIn(), await signIn(), await signIn()];
    expect(await works(first)).toBe(false);
    for (const token of others) expect(await works(token)).toBe(true);
    seed.adminToken = others[2] as string;
  });

  it('lists verifier tokens with their last use and revokes one; several live at once (create, deploy, revoke)', async () => {
    const second = await call(server, 'POST', '/api/v1/verifier-tokens', { token: seed.adminToken, body: { name: 'mx2 hook' } });
    expect(second.status).toBe(201);
    expect((await verify(server, seed.verifier, { username: 'x', password: 'y', protocol: 'smtp' })).status).toBe(401);
    expect((await verify(server, second.body.token, { username: 'x', password: 'y', protocol: 'smtp' })).status).toBe(401);
    const listed = await call(server, 'GET', '/api/v1/verifier-tokens', { token: seed.adminToken });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    for (const token of listed.body.data) {
      expect(Object.keys(token).sort()).toEqual(['created_at', 'id', 'key_hint', 'last_used_at', 'name', 'revoked_at']);
      expect(token.last_used_at).toBeTruthy();
    }
    expect(listed.text).not.toContain(seed.verifier);
    const old = listed.body.data.find((t: { name: string }) => t.name === 'test verifier');
    expect((await call(server, 'DELETE', `/api/v1/verifier-tokens/${old.id}`, { token: seed.adminToken })).status).toBe(204);
    const refused = await verify(server, seed.verifier, { username: 'x', password: 'y', protocol: 'smtp' });
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
    expect((await verify(server, second.body.token, { username: 'x', password: 'y', protocol: 'smtp' })).body.valid).toBe(false);
    expect((await call(server, 'DELETE', `/api/v1/verifier-tokens/${old.id}`, { token: seed.adminToken })).status).toBe(409);
    // Tenant tokens are not verifier tokens: not listed, not revocable here.
    expect((await call(server, 'GET', '/api/v1/verifier-tokens', { token: seed.bearer })).status).toBe(403);
  });

  it('relaykey token list and token revoke', { timeout: 240_000 }, async () => {
    const listed = await server.cliJson<{ data: { id: string; name: string; revoked_at: string | null; last_used_at: string | null }[] }>(['token', 'list']);
    const live = listed.data.find((t) => t.name === 'mx2 hook');
    expect(live?.revoked_at).toBeNull();
    const human = await server.cli(['token', 'list', '--kind', 'verifier']);
    expect(human.stdout).toContain('mx2 hook');
    const tenantTokens = await server.cliJson<{ data: { kind: string }[] }>(['token', 'list', '--tenant', seed.tenantId, '--kind', 'server']);
    expect(tenantTokens.data.map((t) => t.kind)).toEqual(['server']);
    const revoked = await server.cliJson<{ revoked: boolean }>(['token', 'revoke', live?.id as string]);
    expect(revoked.revoked).toBe(true);
    const after = await call(server, 'GET', '/api/v1/verifier-tokens', { token: seed.adminToken });
    expect(after.body.data.every((t: { revoked_at: string | null }) => t.revoked_at !== null)).toBe(true);
    const missing = await server.cli(['token', 'revoke', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(2);
  });
});
