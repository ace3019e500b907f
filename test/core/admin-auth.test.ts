// Admin sign-in with TOTP, session expiry by clock, sign-out, and re-auth bound to a session.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE, ManualClock } from '../../src/clock.js';
import { call } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('admin authentication on %s', (dialect) => {
  let server: TestServer;
  const clock = new ManualClock(new Date());
  const totpSecret = authenticator.generateSecret();
  const password = 'a very long admin password';

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock });
    await server.cliJson(['admin', 'create', '--email', 'totp@relaykey.test', '--password', password, '--totp-secret', totpSecret]);
  });
  afterAll(async () => server?.close());

  const login = (body: Record<string, unknown>) => call(server, 'POST', '/api/v1/auth/login', { body: { email: 'totp@relaykey.test', password, ...body } });

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
    const codeAt = (msAgo: number) => authenticator.clone({ epoch: Date.now() - msAgo }).generate(totpSecret);
    expect((await login({ totp_code: codeAt(30_000) })).status).toBe(200);
    const stale = codeAt(120_000);
    // Rarely, the stale code equals a current one by chance (1 in 10^6 per step): nothing to test then.
    if (![0, 30_000, -30_000].some((ms) => codeAt(ms) === stale)) expect((await login({ totp_code: stale })).body.error.code).toBe('INVALID_LOGIN');
  });

  it('sessions expire with the clock and end at sign-out', async () => {
    const { token } = (await login({ totp_code: authenticator.generate(totpSecret) })).body;
    expect((await call(server, 'GET', '/api/v1/tenants', { token })).status).toBe(200);
    clock.advance(721 * MINUTE);
    const expired = await call(server, 'GET', '/api/v1/tenants', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHENTICATED');

    const fresh = (await login({ totp_code: authenticator.generate(totpSecret) })).body.token;
    expect((await call(server, 'POST', '/api/v1/auth/logout', { token: fresh })).status).toBe(204);
    expect((await call(server, 'GET', '/api/v1/tenants', { token: fresh })).status).toBe(401);
  });

  it('re-auth tokens are bound to their session and expire within minutes', async () => {
    const sessionA = (await login({ totp_code: authenticator.generate(totpSecret) })).body.token;
    const sessionB = (await login({ totp_code: authenticator.generate(totpSecret) })).body.token;
    const reauth = await call(server, 'POST', '/api/v1/auth/reauth', { token: sessionA, body: { password, totp_code: authenticator.generate(totpSecret) } });
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
