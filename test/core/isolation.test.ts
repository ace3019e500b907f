// Tenant isolation matrix: every tenant-scoped route, called with tenant B's tokens on tenant
// A's resources, answers 404 and changes nothing. Login-bound tokens are isolated likewise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';

interface RouteCase {
  method: string;
  path: (a: SeededTenant, ids: { credentialId: string; tokenId: string }) => string;
  body?: unknown;
}

// Every route under /api/v1/tenants/:tenantId.
const TENANT_ROUTES: RouteCase[] = [
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}` },
  { method: 'PATCH', path: (a) => `/api/v1/tenants/${a.tenantId}`, body: { name: 'stolen' } },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/logins` },
  { method: 'POST', path: (a) => `/api/v1/tenants/${a.tenantId}/logins`, body: { address: 'mallory@evil.test' } },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/logins/${a.loginId}` },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/logins/${a.loginId}/aliases` },
  { method: 'POST', path: (a) => `/api/v1/tenants/${a.tenantId}/logins/${a.loginId}/aliases`, body: { address: 'x@alpha-only.example' } },
  { method: 'DELETE', path: (a) => `/api/v1/tenants/${a.tenantId}/logins/${a.loginId}/aliases/y@alpha-only.example` },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/domains` },
  { method: 'POST', path: (a) => `/api/v1/tenants/${a.tenantId}/domains`, body: { domain: 'stolen.example' } },
  { method: 'DELETE', path: (a) => `/api/v1/tenants/${a.tenantId}/domains/alpha-only.example` },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/credentials` },
  { method: 'POST', path: (a) => `/api/v1/tenants/${a.tenantId}/credentials`, body: { name: 'x', scopes: ['smtp'] } },
  { method: 'GET', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}` },
  { method: 'PATCH', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}`, body: { name: 'renamed' } },
  { method: 'POST', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/hold` },
  { method: 'POST', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/unhold` },
  { method: 'POST', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/revoke`, body: { reason: 'x' } },
  { method: 'POST', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/rotate`, body: {} },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/audit-events` },
  { method: 'GET', path: (a) => `/api/v1/tenants/${a.tenantId}/tokens` },
  { method: 'POST', path: (a) => `/api/v1/tenants/${a.tenantId}/tokens`, body: { kind: 'bearer' } },
  { method: 'DELETE', path: (a, ids) => `/api/v1/tenants/${a.tenantId}/tokens/${ids.tokenId}` },
];

describe.each(DIALECTS)('tenant isolation on %s', (dialect) => {
  let server: TestServer;
  let a: SeededTenant;
  let b: SeededTenant;
  let ids: { credentialId: string; tokenId: string };
  let aliceCredential: string;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    a = await seedTenant(server, 'Alpha');
    b = await seedTenant(server, 'Bravo');
    const credential = await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/credentials`, { token: a.bearer, body: { name: 'a-key', scopes: ['smtp'] } });
    const tokens = await call(server, 'GET', `/api/v1/tenants/${a.tenantId}/tokens`, { token: a.adminToken });
    ids = { credentialId: credential.body.id, tokenId: tokens.body.data[0].id };
    const alice = await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/credentials`, {
      token: a.loginBearer,
      body: { name: 'alice-key', scopes: ['imap'] },
    });
    aliceCredential = alice.body.id;
    // A domain and an alias of A's, so that B's DELETEs would have something to remove.
    await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/domains`, { token: a.adminToken, body: { domain: 'alpha-only.example' } });
    await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/logins/${a.loginId}/aliases`, { token: a.bearer, body: { address: 'y@alpha-only.example' } });
  });
  afterAll(async () => server?.close());

  it.each(
    TENANT_ROUTES.map((r) => [`${r.method} ${r.path({ tenantId: ':tenant', loginId: ':login' } as SeededTenant, { credentialId: ':id', tokenId: ':id' })}`, r]),
  )('%s with tenant B tokens -> 404, nothing changed', async (_label, route) => {
    const before = await databaseFingerprint(server);
    for (const token of [b.bearer, b.loginBearer, b.server]) {
      const response = await call(server, route.method, route.path(a, ids), { token, ...(route.body !== undefined ? { body: route.body } : {}) });
      expect(response.status, `${route.method} with ${token.slice(0, 4)} token: ${response.text}`).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect(await databaseFingerprint(server)).toBe(before);
  });

  it('a bearer token bound to a login sees only that login’s credentials', async () => {
    const list = await call(server, 'GET', `/api/v1/tenants/${a.tenantId}/credentials`, { token: a.loginBearer });
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([aliceCredential]);
    const before = await databaseFingerprint(server);
    for (const [method, path, body] of [
      ['GET', `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}`, undefined],
      ['POST', `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/hold`, undefined],
      ['POST', `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/revoke`, { reason: 'x' }],
      ['POST', `/api/v1/tenants/${a.tenantId}/credentials/${ids.credentialId}/rotate`, {}],
    ] as const) {
      const response = await call(server, method, path, { token: a.loginBearer, ...(body ? { body } : {}) });
      expect(response.status).toBe(404);
    }
    expect(await databaseFingerprint(server)).toBe(before);
  });

  it('tenant tokens cannot reach admin-only routes of their own tenant, nor verify', async () => {
    const before = await databaseFingerprint(server);
    expect((await call(server, 'GET', '/api/v1/tenants', { token: a.bearer })).status).toBe(403);
    expect((await call(server, 'POST', `/api/v1/tenants/${a.tenantId}/tokens`, { token: a.bearer, body: { kind: 'bearer' } })).status).toBe(403);
    expect((await call(server, 'POST', '/api/v1/verify', { token: a.bearer, body: { username: 'x', password: 'y', protocol: 'smtp' } })).status).toBe(403);
    expect((await call(server, 'GET', `/api/v1/tenants/${a.tenantId}/credentials`, { token: a.verifier })).status).toBe(403);
    expect((await call(server, 'GET', `/api/v1/tenants/${a.tenantId}/credentials`)).status).toBe(401);
    expect((await call(server, 'GET', `/api/v1/tenants/${a.tenantId}/credentials`, { token: 'rkb_notavalidtoken' })).status).toBe(401);
    expect(await databaseFingerprint(server)).toBe(before);
  });
});
