// Bad input an attacker sends on purpose answers 400 with a code, never a 500, and is not stored:
// leap-second timestamps, key-shaped text in names, reasons and emails, control characters and
// bidi overrides, and client addresses in octal, hex or integer form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KEY_PREFIXES } from '../../src/crypto/key-format.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';

describe.each(DIALECTS)('hostile input on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let credentialPath: string;
  const keyText = generateKey(KEY_PREFIXES.bearerToken);

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Input');
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.adminToken,
      body: { name: 'k', scopes: ['smtp'] },
    });
    credentialPath = `/api/v1/tenants/${seed.tenantId}/credentials/${created.body.id}`;
  });
  afterAll(async () => server?.close());

  async function refused(method: string, path: string, body: unknown, token = seed.adminToken) {
    const before = await databaseFingerprint(server);
    const response = await call(server, method, path, { token, ...(body === undefined ? {} : { body }) });
    expect(response.status, `${method} ${path} ${JSON.stringify(body)}: ${response.text}`).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.text).not.toContain(keyText);
    expect(await databaseFingerprint(server)).toBe(before);
    return response;
  }

  it('a leap-second timestamp in expires_at or in audit since/until is a 400', async () => {
    const leap = '2030-06-30T23:59:60Z';
    await refused('POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { name: 'x', scopes: ['smtp'], expires_at: leap });
    await refused('PATCH', credentialPath, { expires_at: leap });
    await refused('GET', `/api/v1/tenants/${seed.tenantId}/audit-events?since=${encodeURIComponent(leap)}`, undefined);
    await refused('GET', `/api/v1/audit-events?until=${encodeURIComponent(leap)}`, undefined);
  });

  it('key-shaped text (a valid rk_ key) in a name, a reason or a login email is a 400 and is not stored', async () => {
    await refused('POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { name: `copy of ${keyText}`, scopes: ['smtp'] });
    await refused('PATCH', credentialPath, { name: keyText });
    await refused('POST', `${credentialPath}/revoke`, { reason: `leaked ${keyText}` });
    await refused('POST', `/api/v1/tenants/${seed.tenantId}/tokens`, { kind: 'bearer', name: keyText });
    const login = await call(server, 'POST', '/api/v1/auth/login', { body: { email: keyText, password: 'whatever it is' } });
    expect(login.status).toBe(400);
    expect(login.body.error.code).toBe('VALIDATION_FAILED');
    const rows = await server.sql<{ details: string }>('SELECT details FROM audit_events');
    expect(JSON.stringify(rows)).not.toContain(keyText);
  });

  it('a failed sign-in with an email that is not an email is audited without the raw value', async () => {
    const response = await call(server, 'POST', '/api/v1/auth/login', { body: { email: 'not an email <script>', password: 'whatever it is' } });
    expect(response.status).toBe(401);
    const rows = await server.sql<{ details: string }>("SELECT details FROM audit_events WHERE event = 'admin.login_failed'");
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(rows)).not.toContain('<script>');
  });

  it('control characters and bidi overrides in names and reasons are a 400', async () => {
    for (const bad of ['two\r\nlines', 'nul\u0000byte', 'ansi \u001b[31mred', 'bell\u0007', 'c1\u0085', 'rtl \u202e evil', 'isolate \u2066x\u2069']) {
      await refused('POST', `/api/v1/tenants/${seed.tenantId}/credentials`, { name: bad, scopes: ['smtp'] });
      await refused('POST', `${credentialPath}/revoke`, { reason: bad });
    }
    // Ordinary text in any script still works.
    const fine = await call(server, 'PATCH', credentialPath, { token: seed.adminToken, body: { name: 'Ünïcode 名前 — ok' } });
    expect(fine.status).toBe(200);
  });

  it('a NUL or another control character in a path parameter or a query value is a 400 on both databases (PostgreSQL cannot even compare it)', async () => {
    const vault = '/api/v1/platform-admin/tenants/%00/smtp-credentials';
    await refused('POST', `${vault}/rotate`, { reason: 'r' });
    await refused('GET', `/api/v1/tenants/${seed.tenantId}/credentials/%00`, undefined);
    await refused('GET', '/api/v1/tenants?search=%00', undefined);
    await refused('GET', `/api/v1/tenants/${seed.tenantId}/audit-events?event=a%0Db`, undefined);
    // Refused before the vault's re-auth check looks the tenant up (that lookup was the 500).
    const bare = await call(server, 'POST', `${vault}/emergency-reset`, { token: seed.adminToken, body: { incident_id: 'INC-1', reason: 'r' } });
    expect(bare.status).toBeLessThan(500);
    // Still authentication first: no token, 401.
    expect((await call(server, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials/%00`)).status).toBe(401);
  });

  it('client_ip in octal, hex or integer form is refused, not taken as an address', async () => {
    for (const ip of ['0177.0.0.1', '0x7f.0.0.1', '0x7f000001', '2130706433', '127.1', '010.0.0.1']) {
      const response = await verify(server, seed.verifier, { username: 'x', password: 'nothing-valid-here', protocol: 'smtp', client_ip: ip });
      expect(response.status, ip).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
    }
    for (const ip of ['192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1']) {
      expect((await verify(server, seed.verifier, { username: 'x', password: 'nothing-valid-here', protocol: 'smtp', client_ip: ip })).status, ip).toBe(401);
    }
  });
});

describe('control-plane address checks', () => {
  it('webhook URLs at IPv4-compatible IPv6 or localhost. are refused at save', async () => {
    const { urlProblem } = await import('../../src/webhooks/target-safety.js');
    for (const url of ['http://[::127.0.0.1]/', 'http://[::7f00:1]/hook', 'http://localhost./', 'http://LOCALHOST./', 'http://a.localhost/']) {
      expect(urlProblem(url, []), url).not.toBeNull();
    }
    expect(urlProblem('https://hooks.example.com/x', [])).toBeNull();
  });
});

describe.each(DIALECTS)('tenant settings checks on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server, 'Backends');
  });
  afterAll(async () => server?.close());

  it('mail_backends must be an IP address and a port 1-65535', async () => {
    for (const backend of ['999.0.0.1:25', '192.0.2.1:99999', '192.0.2.1:0', '0x7f.0.0.1:25', '::1:25']) {
      const response = await call(server, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, { token: seed.adminToken, body: { mail_backends: { smtp: backend } } });
      expect(response.status, backend).toBe(400);
    }
    for (const backend of ['192.0.2.1:25', '[2001:db8::1]:587']) {
      const response = await call(server, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, { token: seed.adminToken, body: { mail_backends: { smtp: backend } } });
      expect(response.status, `${backend}: ${response.text}`).toBe(200);
    }
  });

  it('tenant search treats % and _ as text on both databases', async () => {
    await call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: 'Percent 100% Co' } });
    await call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: 'Percent 1000 Co' } });
    const found = await call(server, 'GET', `/api/v1/tenants?search=${encodeURIComponent('100%')}`, { token: seed.adminToken });
    expect(found.status).toBe(200);
    expect(found.body.data.map((t: { name: string }) => t.name)).toEqual(['Percent 100% Co']);
  });
});
