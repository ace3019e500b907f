// Bad input gets a 4xx with an error code, never a 500, and changes nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';

describe.each(DIALECTS)('bad input on %s', (dialect) => {
  let server: TestServer;
  let seed: SeededTenant;
  let credentialId: string;
  let credentials: string;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    seed = await seedTenant(server);
    credentials = `/api/v1/tenants/${seed.tenantId}/credentials`;
    credentialId = (await call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'] } })).body.id;
  });
  afterAll(async () => server?.close());

  const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [];
  const add = (label: string, status: number, code: string, run: () => Promise<{ status: number; body: any }>) => cases.push([label, run, status, code]);

  add('malformed JSON', 400, 'MALFORMED_JSON', () => call(server, 'POST', credentials, { token: seed.bearer, rawBody: '{"name": "k", ' }));
  add('empty JSON body', 400, 'MALFORMED_JSON', () => call(server, 'POST', credentials, { token: seed.bearer, rawBody: '' }));
  add('wrong type for name', 400, 'VALIDATION_FAILED', () => call(server, 'POST', credentials, { token: seed.bearer, body: { name: 123, scopes: ['smtp'] } }));
  add('string where array expected', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: 'smtp' } }),
  );
  add('unknown field', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], admin: true } }),
  );
  add('unknown scope', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp', 'root'] } }),
  );
  add('empty scope list', 400, 'VALIDATION_FAILED', () => call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: [] } }));
  add('scopes and role together', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], role: 'iac' } }),
  );
  add('unknown role', 400, 'VALIDATION_FAILED', () => call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', role: 'god' } }));
  add('empty name', 400, 'VALIDATION_FAILED', () => call(server, 'POST', credentials, { token: seed.bearer, body: { name: '', scopes: ['smtp'] } }));
  add('blank name', 400, 'VALIDATION_FAILED', () => call(server, 'POST', credentials, { token: seed.bearer, body: { name: '   ', scopes: ['smtp'] } }));
  add('10 kB name', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'n'.repeat(10_240), scopes: ['smtp'] } }),
  );
  add('past expiry', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], expires_at: '2001-01-01T00:00:00Z' } }),
  );
  add('bad CIDR', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], allowed_networks: ['10.0.0.0/99'] } }),
  );
  add('oversized body', 413, 'PAYLOAD_TOO_LARGE', () =>
    call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], pad: 'x'.repeat(1_100_000) } }),
  );
  // An admin's malformed tenant id is a 400; a tenant token's is another tenant's, a 404 (test/security).
  add('bad tenant id', 400, 'VALIDATION_FAILED', () => call(server, 'GET', '/api/v1/tenants/not-a-uuid/credentials', { token: seed.adminToken }));
  add('bad credential id', 400, 'VALIDATION_FAILED', () => call(server, 'GET', `${credentials}/12345`, { token: seed.bearer }));
  add('unknown credential id', 404, 'NOT_FOUND', () => call(server, 'GET', `${credentials}/00000000-0000-4000-8000-000000000000`, { token: seed.bearer }));
  add('wrong content type', 415, 'UNSUPPORTED_MEDIA_TYPE', () =>
    call(server, 'POST', credentials, { token: seed.bearer, rawBody: 'name=k', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  );
  add('bad page number', 400, 'VALIDATION_FAILED', () => call(server, 'GET', `${credentials}?page=0`, { token: seed.bearer }));
  add('huge per_page', 400, 'VALIDATION_FAILED', () => call(server, 'GET', `${credentials}?per_page=100000`, { token: seed.bearer }));
  add('empty patch', 400, 'VALIDATION_FAILED', () => call(server, 'PATCH', `${credentials}/${credentialId}`, { token: seed.bearer, body: {} }));
  add('revoke without reason', 400, 'VALIDATION_FAILED', () => call(server, 'POST', `${credentials}/${credentialId}/revoke`, { token: seed.bearer, body: {} }));
  add('negative grace', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', `${credentials}/${credentialId}/rotate`, { token: seed.bearer, body: { grace_period_seconds: -5 } }),
  );
  add('verify: unknown protocol', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', '/api/v1/verify', { token: seed.verifier, body: { username: 'a', password: 'b', protocol: 'ftp' } }),
  );
  add('verify: missing password', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', '/api/v1/verify', { token: seed.verifier, body: { username: 'a', protocol: 'smtp' } }),
  );
  add('tenant: bad webmail URL', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: 't', webmail_url: 'javascript:alert(1)' } }),
  );
  add('tenant: bad domain', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', '/api/v1/tenants', { token: seed.adminToken, body: { name: 't', domain: 'not a domain' } }),
  );
  add('login: bad address', 400, 'VALIDATION_FAILED', () =>
    call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/logins`, { token: seed.bearer, body: { address: 'no-at-sign' } }),
  );
  add('login: duplicate address', 409, 'CONFLICT', () =>
    call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/logins`, { token: seed.bearer, body: { address: seed.loginAddress } }),
  );
  add('auth: wrong types', 400, 'VALIDATION_FAILED', () => call(server, 'POST', '/api/v1/auth/login', { body: { email: ['x'], password: 1 } }));

  it.each(cases)('%s', async (_label, run, status, code) => {
    const before = await databaseFingerprint(server);
    const response = await run();
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message.length).toBeGreaterThan(5);
    expect(await databaseFingerprint(server)).toBe(before);
  });

  it('names the offending field', async () => {
    const unknown = await call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp'], colour: 'red' } });
    expect(unknown.body.error.message).toContain('colour');
    const scope = await call(server, 'POST', credentials, { token: seed.bearer, body: { name: 'k', scopes: ['smtp', 'root'] } });
    expect(scope.body.error.message).toContain('scopes');
  });

  it('property: arbitrary request bodies never produce a 500', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('smtp', 'imap', 'app', 'api:read')), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    );
    const fieldNames = fc.constantFrom(
      'name',
      'scopes',
      'role',
      'expires_at',
      'allowed_networks',
      'held',
      'metadata',
      'login_id',
      'kind',
      'reason',
      'grace_period_seconds',
      'username',
      'password',
      'protocol',
      'client_ip',
      'email',
      'address',
      'domain',
      'webmail_url',
      'connection_info',
      '__proto__',
      'constructor',
    );
    const body = fc.oneof(fc.dictionary(fieldNames, value, { maxKeys: 6 }), fc.jsonValue({ maxDepth: 3 }));
    const targets: Array<[string, string, string]> = [
      ['POST', credentials, seed.bearer],
      ['PATCH', `${credentials}/${credentialId}`, seed.bearer],
      ['POST', `${credentials}/${credentialId}/rotate`, seed.bearer],
      ['POST', `${credentials}/${credentialId}/revoke`, seed.bearer],
      ['POST', `/api/v1/tenants/${seed.tenantId}/logins`, seed.bearer],
      ['PATCH', `/api/v1/tenants/${seed.tenantId}`, seed.adminToken],
      ['POST', '/api/v1/tenants', seed.adminToken],
      ['POST', '/api/v1/verify', seed.verifier],
      ['POST', '/api/v1/auth/login', ''],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), body, async ([method, path, token], payload) => {
        const response = await call(server, method, path, { ...(token ? { token } : {}), rawBody: JSON.stringify(payload) ?? 'null' });
        expect(response.status, `${method} ${path} ${JSON.stringify(payload)} -> ${response.text}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
