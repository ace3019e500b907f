// The route x principal matrix, generated from the routes the server registers: every route
// names a policy action (a route without one fails here), and every route is called by every
// kind of principal over real HTTP. A principal the policy refuses gets 401/403/404 and the
// database is byte-for-byte what it was; a principal it admits is never refused for its kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY, PRINCIPAL_KINDS, type PrincipalKind } from '../../src/domain/policy.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Routes served by plugins whose wildcard pages are static files, plus HEAD twins of GETs. */
function exercised(route: { method: string; url: string }): boolean {
  return route.method !== 'HEAD' && !route.url.startsWith('/docs/') && !route.url.startsWith('/console/assets');
}

describe.each(DIALECTS)('policy matrix on %s', (dialect) => {
  let server: TestServer;
  let t: SeededTenant;
  let credentialId: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_ADMIN_IDLE_MINUTES: '43200' } });
    t = await seedTenant(server, 'Matrix');
    const created = await call(server, 'POST', `/api/v1/tenants/${t.tenantId}/credentials`, {
      token: t.adminToken,
      body: { name: 'alice-key', login_id: t.loginId, scopes: ['smtp'] },
    });
    credentialId = created.body.id;
    // A second admin for the routes that end sessions ("sign out everywhere" ends all of one admin's).
    await server.cliJson(['admin', 'create', '--email', 'other-admin@matrix.test', '--password', 'another long password']);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('every registered route names a policy action', () => {
    const routes = server.app.policyRoutes;
    expect(routes.length).toBeGreaterThan(50);
    const missing = routes.filter((r) => r.action === undefined).map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    for (const route of routes) expect(Object.keys(POLICY)).toContain(route.action);
  });

  it('every route answers every principal kind as the policy says, and a refusal writes nothing', async () => {
    const tokenOf: Record<PrincipalKind, string | null> = {
      anonymous: null,
      admin: t.adminToken,
      bearer: t.bearer,
      'bound-bearer': t.loginBearer,
      server: t.server,
      verifier: t.verifier,
    };
    const failures: string[] = [];
    const freshAdminSession = async () =>
      (await call(server, 'POST', '/api/v1/auth/login', { body: { email: 'other-admin@matrix.test', password: 'another long password' } })).body
        .token as string;
    const routes = server.app.policyRoutes.filter(exercised);
    for (const route of routes) {
      const rule = POLICY[route.action as keyof typeof POLICY];
      for (const kind of PRINCIPAL_KINDS) {
        const path = route.url
          .replace(/:tenant_?[iI]d/, t.tenantId)
          .replace(':credentialId', credentialId)
          .replace(':loginId', t.loginId)
          .replace(/:[A-Za-z]+/g, UNKNOWN)
          .replace(/\*$/, 'x');
        // Signing out (here or everywhere) would end the session the rest of the matrix uses:
        // an admin calls those routes with a session of its own.
        const ends = kind === 'admin' && (route.action === 'auth.logout' || route.action === 'auth.sessions.revoke');
        const token = ends ? await freshAdminSession() : tokenOf[kind];
        const headers: Record<string, string> = {};
        if (token && rule.via === 'x-server-api-key') headers['x-server-api-key'] = token;
        const allowed = (rule.allow as readonly string[]).includes('anonymous') || (rule.allow as readonly string[]).includes(kind);
        const before = allowed ? '' : await databaseFingerprint(server);
        const response = await call(server, route.method, path, {
          ...(token && rule.via !== 'x-server-api-key' ? { token } : {}),
          headers,
          ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {}),
        });
        const where = `${route.method} ${route.url} as ${kind}: ${response.status} ${response.text.slice(0, 160)}`;
        if (response.status >= 500 && !(route.action === 'public.console' && response.status === 503)) failures.push(`5xx: ${where}`);
        if (allowed) {
          if (response.status === 401 && !/REAUTH/.test(response.text) && kind !== 'anonymous') failures.push(`refused an admitted principal: ${where}`);
          if (response.status === 403) failures.push(`refused an admitted principal: ${where}`);
        } else {
          if (![401, 403, 404].includes(response.status)) failures.push(`admitted a refused principal: ${where}`);
          if (response.status !== 401 && /validation|must have|must be/i.test(response.text)) failures.push(`validated before refusing: ${where}`);
          if ((await databaseFingerprint(server)) !== before) failures.push(`refusal changed the database: ${where}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);

  it('sign-out is for admin sessions only', async () => {
    for (const kind of ['bearer', 'bound-bearer', 'server', 'verifier'] as const) {
      const token = { bearer: t.bearer, 'bound-bearer': t.loginBearer, server: t.server, verifier: t.verifier }[kind];
      const before = await databaseFingerprint(server);
      expect((await call(server, 'POST', '/api/v1/auth/logout', { token })).status).toBe(403);
      expect(await databaseFingerprint(server)).toBe(before);
    }
    expect((await call(server, 'POST', '/api/v1/auth/logout')).status).toBe(401);
    expect((await call(server, 'POST', '/api/v1/auth/logout', { token: t.adminToken })).status).toBe(204);
    expect((await call(server, 'GET', '/api/v1/tenants', { token: t.adminToken })).status).toBe(401);
  });
});
