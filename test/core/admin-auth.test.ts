// Admin sign-in with TOTP (each code accepted once, the secret sealed at rest), session expiry by
// clock, sign-out, and re-auth bound to a session.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, ManualClock } from '../../src/clock.js';
import { call } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('admin authentication on %s', (dialect) => {
  let server: TestServer;
  const clock = new ManualClock(new Date());
  const totpSecret = authenticator.generateSecret();
  const secondSecret = authenticator.generateSecret();
  const password = 'a very long admin password';

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    await server.cliJson(['admin', 'create', '--email', 'totp@relaykey.test', '--password', password, '--totp-secret', totpSecret]);
    await server.cliJson(['admin', 'create', '--email', 'steps@relaykey.test', '--password', password, '--totp-secret', secondSecret]);
    // Sessions are tested with an admin without TOTP: a code signs in once, and tests sign in often.
    await server.cliJson(['admin', 'create', '--email', 'plain@relaykey.test', '--password', password]);
  });
  afterAll(async () => server?.close());

  const login = (body: Record<string, unknown>, email = 'totp@relaykey.test') =>
    call(server, 'POST', '/api/v1/auth/login', { body: { email, password, ...body } });
  const plainLogin = async () => (await login({}, 'plain@relaykey.test')).body.token as string;

  it('asks for a TOTP code when the admin has one and refuses a wrong one', async () => {
    const missing = await login({});
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('TOTP_REQUIRED');
    expect((await login({ totp_code: '000000' === authenticator.generate(totpSecret) ? '111111' : '000000' })).body.error.code).toBe('INVALID_LOGIN');
    const ok = await login({ totp_code: authenticator.generate(totpSecret) });
    expect(ok.status).toBe(200);
    expect(ok.body.token).toMatch(/^rka_/);
  });

  it('accepts the code of the step before (a code typed as the 30 s step turns) but not an older one', async () => {
    const codeAt = (msAgo: number) => authenticator.clone({ epoch: Date.now() - msAgo }).generate(secondSecret);
    // A code four or more steps old that matches none of the accepted steps (a chance match is
    // 1 in 10^6 per step; the first of a few older steps that does not collide is used).
    const accepted = new Set([0, 30_000, -30_000].map((ms) => codeAt(ms)));
    const stale = [120_000, 150_000, 180_000, 210_000].map((ms) => codeAt(ms)).find((code) => !accepted.has(code));
    expect(stale).toBeDefined();
    expect((await login({ totp_code: stale }, 'steps@relaykey.test')).body.error.code).toBe('INVALID_LOGIN');
    expect((await login({ totp_code: codeAt(30_000) }, 'steps@relaykey.test')).status).toBe(200);
  });

  it('accepts each TOTP code once: a replayed code, or one of an earlier step, is refused', async () => {
    const admin = 'replay@relaykey.test';
    const secret = authenticator.generateSecret();
    await server.cliJson(['admin', 'create', '--email', admin, '--password', password, '--totp-secret', secret]);
    const code = authenticator.generate(secret);
    const first = await login({ totp_code: code }, admin);
    expect(first.status).toBe(200);
    const replay = await login({ totp_code: code }, admin);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('INVALID_LOGIN');
    // The step before is older than the one used: refused too.
    // (Should the code of the step before equal this one by chance, the step before it is used: older still.)
    const earlier = [30_000, 60_000].map((ms) => authenticator.clone({ epoch: Date.now() - ms }).generate(secret));
    const previous = earlier.find((candidate) => candidate !== code);
    expect(previous).toBeDefined();
    expect((await login({ totp_code: previous }, admin)).body.error.code).toBe('INVALID_LOGIN');
    // Re-auth is held to the same rule: the code already used does not re-authenticate.
    const reauth = await call(server, 'POST', '/api/v1/auth/reauth', { token: first.body.token, body: { password, totp_code: code } });
    expect(reauth.status).toBe(401);
    expect(reauth.body.error.code).toBe('INVALID_LOGIN');
  });

  it('stores the TOTP secret sealed, not as base32, and seals one stored in plain text at start-up', async () => {
    const rows = await server.sql<{ email: string; totp_secret: string | null }>('SELECT email, totp_secret FROM admins');
    const sealed = rows.filter((r) => r.totp_secret !== null);
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const row of sealed) {
      expect(row.totp_secret).toMatch(/^rkts1:/);
      expect(row.totp_secret).not.toContain(totpSecret);
      expect(row.totp_secret).not.toContain(secondSecret);
    }
    // A secret stored in plain base32 by an older version is sealed when the service starts.
    const legacy = authenticator.generateSecret();
    await server.sql("UPDATE admins SET totp_secret = ? WHERE email = 'plain@relaykey.test'", [legacy]);
    expect(await server.runtime.services.access.sealLegacyTotpSecrets()).toBe(1);
    const [after] = await server.sql<{ totp_secret: string }>("SELECT totp_secret FROM admins WHERE email = 'plain@relaykey.test'");
    expect(after?.totp_secret).toMatch(/^rkts1:/);
    expect((await login({ totp_code: authenticator.generate(legacy) }, 'plain@relaykey.test')).status).toBe(200);
    await server.sql("UPDATE admins SET totp_secret = NULL WHERE email = 'plain@relaykey.test'");
  });

  it('sessions expire with the clock and end at sign-out', async () => {
    const token = await plainLogin();
    expect((await call(server, 'GET', '/api/v1/tenants', { token })).status).toBe(200);
    clock.advance(721 * MINUTE);
    const expired = await call(server, 'GET', '/api/v1/tenants', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHENTICATED');

    const fresh = await plainLogin();
    expect((await call(server, 'POST', '/api/v1/auth/logout', { token: fresh })).status).toBe(204);
    expect((await call(server, 'GET', '/api/v1/tenants', { token: fresh })).status).toBe(401);
  });

  it('re-auth tokens are bound to their session and expire within minutes', async () => {
    const sessionA = await plainLogin();
    const sessionB = await plainLogin();
    const reauth = await call(server, 'POST', '/api/v1/auth/reauth', { token: sessionA, body: { password } });
    expect(reauth.status).toBe(200);
    const principalA = await server.runtime.services.access.authenticate(sessionA);
    const principalB = await server.runtime.services.access.authenticate(sessionB);
    if (!principalA || !principalB) throw new Error('sessions did not authenticate');
    expect(await server.runtime.services.access.checkReauth(principalA, reauth.body.reauth_token)).toBe('ok');
    expect(await server.runtime.services.access.checkReauth(principalB, reauth.body.reauth_token)).toBe('foreign');
    expect(await server.runtime.services.access.checkReauth(principalA, undefined)).toBe('missing');
    clock.advance(6 * MINUTE);
    expect(await server.runtime.services.access.checkReauth(principalA, reauth.body.reauth_token)).toBe('expired');
  });
});
