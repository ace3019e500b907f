// Issue 27 (admins): owners create, disable and enable admins over the API (audited; an admin of
// role admin is refused); a disabled admin cannot sign in and its sessions end at once; every
// admin enrols its own TOTP authenticator (password to start, a real code to confirm), after
// which sign-in needs a code. The secret is answered once and never reaches logs or audit.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const OWNER_PASSWORD = 'owner password that is long';
const PASSWORD = 'operator password long enough';

describe.each(DIALECTS)('admin management and TOTP enrolment on %s', (dialect) => {
  let server: TestServer;
  let ownerId = '';
  let ownerToken = '';
  const ownerEmail = `owner-${Date.now()}@relaykey.test`;
  const operatorEmail = `operator-${Date.now()}@relaykey.test`;
  let operatorId = '';

  const login = (email: string, password: string, totp_code?: string) =>
    call(server, 'POST', '/api/v1/auth/login', { body: { email, password, ...(totp_code ? { totp_code } : {}) } });
  const audit = async (event: string) =>
    (await call(server, 'GET', `/api/v1/audit-events?event=${event}`, { token: ownerToken })).body.data as Array<Record<string, any>>;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_JOBS: 'off' } });
    const created = (await server.cliJson(['admin', 'create', '--email', ownerEmail, '--password', OWNER_PASSWORD])) as { id: string; role: string };
    ownerId = created.id;
    expect(created.role).toBe('owner');
    ownerToken = (await login(ownerEmail, OWNER_PASSWORD)).body.token;
  }, 120_000);

  afterAll(async () => server?.close());

  it('an owner creates an admin (role admin by default), audited; bad input is a 400 naming the field', async () => {
    const created = await call(server, 'POST', '/api/v1/admins', {
      token: ownerToken,
      body: { email: `  ${operatorEmail.toUpperCase()} `, password: PASSWORD },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ email: operatorEmail, role: 'admin', totp_enabled: false, disabled_at: null });
    expect(created.text).not.toContain(PASSWORD);
    operatorId = created.body.id;
    const events = await audit('admin.created');
    const mine = events.find((e) => e.target?.id === operatorId);
    expect(mine).toMatchObject({ actor: { type: 'admin', id: ownerId }, details: { email: operatorEmail, role: 'admin' } });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);

    const list = await call(server, 'GET', '/api/v1/admins', { token: ownerToken });
    expect(list.body.data.map((a: { email: string; role: string }) => [a.email, a.role])).toEqual(
      expect.arrayContaining([
        [ownerEmail, 'owner'],
        [operatorEmail, 'admin'],
      ]),
    );

    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ email: operatorEmail, password: PASSWORD }, 409, /already exists/],
      [{ email: 'not-an-email', password: PASSWORD }, 400, /email/],
      [{ email: 'x@example.com', password: 'short' }, 400, /password/],
      [{ email: 'x@example.com', password: PASSWORD, role: 'root' }, 400, /role/],
      [{ email: 'x@example.com' }, 400, /password/],
      [{ email: 'x@example.com', password: PASSWORD, extra: 1 }, 400, /extra/],
    ];
    for (const [body, status, message] of cases) {
      const response = await call(server, 'POST', '/api/v1/admins', { token: ownerToken, body });
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error.message).toMatch(message);
    }
    expect((await call(server, 'GET', '/api/v1/admins', { token: ownerToken })).body.data).toHaveLength(2);
  });

  it('an admin of role admin may read the list but not create, disable or enable admins', async () => {
    const token = (await login(operatorEmail, PASSWORD)).body.token;
    expect((await call(server, 'GET', '/api/v1/admins', { token })).status).toBe(200);
    for (const [path, body] of [
      ['/api/v1/admins', { email: 'y@example.com', password: PASSWORD }],
      [`/api/v1/admins/${ownerId}/disable`, undefined],
      [`/api/v1/admins/${ownerId}/enable`, undefined],
    ] as const) {
      const refused = await call(server, 'POST', path, { token, ...(body ? { body } : {}) });
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.message).toMatch(/only an owner/);
    }
    expect((await call(server, 'GET', '/api/v1/admins', { token })).body.data).toHaveLength(2);
  });

  it('a disabled admin cannot sign in and its sessions end at once; enabled again, it can', async () => {
    const sessions = [(await login(operatorEmail, PASSWORD)).body.token, (await login(operatorEmail, PASSWORD)).body.token];
    for (const token of sessions) expect((await call(server, 'GET', '/api/v1/tenants', { token })).status).toBe(200);

    const disabled = await call(server, 'POST', `/api/v1/admins/${operatorId}/disable`, { token: ownerToken });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body.disabled_at).toMatch(/^\d{4}-/);
    for (const token of sessions) expect((await call(server, 'GET', '/api/v1/tenants', { token })).status).toBe(401);
    const refused = await login(operatorEmail, PASSWORD);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'ADMIN_DISABLED' });
    // A wrong password learns nothing about the account's state.
    expect((await login(operatorEmail, `${PASSWORD}x`)).body.error.code).toBe('INVALID_LOGIN');
    const events = await audit('admin.disabled');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'warning', target: { type: 'admin', id: operatorId }, details: { email: operatorEmail } });
    expect(events[0]?.details.ended_sessions.length).toBeGreaterThanOrEqual(3);

    expect((await call(server, 'POST', `/api/v1/admins/${operatorId}/disable`, { token: ownerToken })).status).toBe(409);
    const enabled = await call(server, 'POST', `/api/v1/admins/${operatorId}/enable`, { token: ownerToken });
    expect(enabled.status).toBe(200);
    expect(enabled.body.disabled_at).toBeNull();
    expect((await login(operatorEmail, PASSWORD)).status).toBe(200);
    expect(await audit('admin.enabled')).toHaveLength(1);
    expect((await call(server, 'POST', `/api/v1/admins/${operatorId}/enable`, { token: ownerToken })).status).toBe(409);

    // Not yourself; unknown and malformed ids are named.
    const self = await call(server, 'POST', `/api/v1/admins/${ownerId}/disable`, { token: ownerToken });
    expect(self.status).toBe(409);
    expect(self.body.error.message).toMatch(/your own account/);
    expect((await call(server, 'POST', '/api/v1/admins/00000000-0000-4000-8000-000000000000/disable', { token: ownerToken })).status).toBe(404);
    const malformed = await call(server, 'POST', '/api/v1/admins/nope/disable', { token: ownerToken });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/adminId/);
  });

  it('enrols TOTP with a real code: secret once, sign-in needs a code afterwards, a code works once', async () => {
    const token = (await login(operatorEmail, PASSWORD)).body.token;
    const wrongPassword = await call(server, 'POST', '/api/v1/auth/totp/enrolment', { token, body: { password: 'not the password' } });
    expect(wrongPassword.status).toBe(401);
    expect((await call(server, 'POST', '/api/v1/auth/totp/enrolment', { token, body: {} })).body.error.message).toMatch(/password/);

    const started = await call(server, 'POST', '/api/v1/auth/totp/enrolment', { token, body: { password: PASSWORD } });
    expect(started.status, started.text).toBe(201);
    expect(started.headers.get('cache-control')).toBe('no-store');
    const secret = started.body.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(started.body.otpauth_uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('relaykey');
    expect(decodeURIComponent(uri.pathname)).toContain(operatorEmail);
    // Pending until confirmed: sign-in still needs no code.
    expect((await login(operatorEmail, PASSWORD)).status).toBe(200);

    const wrong = authenticator.generate(secret) === '000000' ? '111111' : '000000';
    const refused = await call(server, 'POST', '/api/v1/auth/totp/enrolment/confirm', { token, body: { code: wrong } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('TOTP_CODE_WRONG');
    const malformed = await call(server, 'POST', '/api/v1/auth/totp/enrolment/confirm', { token, body: { code: '12ab' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/code/);

    const code = authenticator.generate(secret);
    const confirmed = await call(server, 'POST', '/api/v1/auth/totp/enrolment/confirm', { token, body: { code } });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body).toMatchObject({ id: operatorId, totp_enabled: true });

    // Sign-in now needs a code; the confirming one is used up; the next step's code works.
    expect((await login(operatorEmail, PASSWORD)).body.error.code).toBe('TOTP_REQUIRED');
    expect((await login(operatorEmail, PASSWORD, code)).body.error.code).toBe('INVALID_LOGIN');
    const next = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(secret);
    const signedIn = await login(operatorEmail, PASSWORD, next);
    expect(signedIn.status, signedIn.text).toBe(200);
    // Already on: a second enrolment is refused (it would replace the authenticator).
    const again = await call(server, 'POST', '/api/v1/auth/totp/enrolment', { token: signedIn.body.token, body: { password: PASSWORD } });
    expect(again.status).toBe(409);
    expect((await call(server, 'POST', '/api/v1/auth/totp/enrolment/confirm', { token, body: { code: next } })).status).toBe(409);

    const events = [...(await audit('admin.totp_enrolment_started')), ...(await audit('admin.totp_enabled'))];
    expect(events.map((e) => e.event).sort()).toEqual(['admin.totp_enabled', 'admin.totp_enrolment_started']);
    expect(events.every((e) => e.target?.id === operatorId)).toBe(true);
    const everything = (await call(server, 'GET', '/api/v1/audit-events?per_page=200', { token: ownerToken })).text;
    expect(everything).not.toContain(secret);
    expect(server.logs.join('\n')).not.toContain(secret);
    const rows = await server.sql<Record<string, unknown>>('SELECT * FROM admins WHERE id = ?', [operatorId]);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('tenant tokens and anonymous callers cannot reach admin management or enrolment', async () => {
    const tenant = await call(server, 'POST', '/api/v1/tenants', { token: ownerToken, body: { name: 'T', domain: `t${Date.now()}.test` } });
    const bearer = (await call(server, 'POST', `/api/v1/tenants/${tenant.body.id}/tokens`, { token: ownerToken, body: { kind: 'bearer', name: 'b' } })).body
      .token;
    for (const [path, body] of [
      ['/api/v1/admins', { email: 'z@example.com', password: PASSWORD }],
      [`/api/v1/admins/${operatorId}/disable`, undefined],
      ['/api/v1/auth/totp/enrolment', { password: PASSWORD }],
    ] as const) {
      expect((await call(server, 'POST', path, { token: bearer, ...(body ? { body } : {}) })).status, path).toBe(403);
      expect((await call(server, 'POST', path, body ? { body } : {})).status, path).toBe(401);
    }
  });
});
