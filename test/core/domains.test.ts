// Domains belong to tenants: unique platform-wide (case-insensitive, IDNA), assigned by platform
// admins only; logins, aliases and vaulted SMTP usernames only inside the tenant's own domains
// (422 DOMAIN_NOT_OWNED), through the API and the CLI; rows from before the rule are reported,
// not refused, by the migration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DomainService } from '../../src/domain/domains.js';
import { migrateToLatest, openDatabase } from '../../src/storage/connect.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { createStore } from '../../src/storage/store.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';
import { databaseFingerprint } from '../helpers/snapshot.js';

describe.each(DIALECTS)('tenant domains on %s', (dialect) => {
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;
  const acmeDomain = () => acme.loginAddress.split('@')[1] as string;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
  });
  afterAll(async () => server?.close());

  it("a tenant cannot create a login, an alias or an SMTP username in another tenant's domain (422, nothing written)", async () => {
    const before = await databaseFingerprint(server);
    const login = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/logins`, {
      token: evil.bearer,
      body: { address: `ALICE@${acmeDomain().toUpperCase()}` },
    });
    expect(login.status).toBe(422);
    expect(login.body.error.code).toBe('DOMAIN_NOT_OWNED');
    // Not even a platform admin may put an address of one tenant's domain into another.
    const byAdmin = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/logins`, { token: evil.adminToken, body: { address: `ceo@${acmeDomain()}` } });
    expect(byAdmin.body.error.code).toBe('DOMAIN_NOT_OWNED');
    const unowned = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/logins`, {
      token: evil.bearer,
      body: { address: 'someone@nobody-owns.example' },
    });
    expect(unowned.status).toBe(422);
    const alias = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/logins/${evil.loginId}/aliases`, {
      token: evil.bearer,
      body: { address: `ceo@${acmeDomain()}` },
    });
    expect(alias.status).toBe(422);
    expect(alias.body.error.code).toBe('DOMAIN_NOT_OWNED');
    const tenant = await call(server, 'POST', '/api/v1/tenants', {
      token: evil.adminToken,
      body: { name: 'Sneaky', smtp_username: `postmaster@${acmeDomain()}` },
    });
    expect(tenant.status).toBe(422);
    expect(tenant.body.error.code).toBe('DOMAIN_NOT_OWNED');
    expect(await databaseFingerprint(server)).toBe(before);

    const cli = await server.cli(['login', 'create', '--tenant', evil.tenantId, '--address', `bob@${acmeDomain()}`]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('DOMAIN_NOT_OWNED');
    const cliTenant = await server.cli(['tenant', 'create', '--name', 'Sneaky', '--smtp-username', `relay@${acmeDomain()}`]);
    expect(cliTenant.stderr).toContain('DOMAIN_NOT_OWNED');
    expect(await databaseFingerprint(server)).toBe(before);
  });

  it('a domain has one owner: case-insensitive, IDNA-normalised; only a platform admin assigns it', async () => {
    const assigned = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.adminToken, body: { domain: 'Bücher.Example.' } });
    expect(assigned.status).toBe(201);
    expect(assigned.body).toMatchObject({ domain: 'xn--bcher-kva.example', tenant_id: acme.tenantId });
    const again = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.adminToken, body: { domain: 'xn--bcher-kva.example' } });
    expect(again.status).toBe(200);

    for (const spelling of ['XN--BCHER-KVA.EXAMPLE', 'bücher.example', 'BÜCHER.example']) {
      const taken = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/domains`, { token: evil.adminToken, body: { domain: spelling } });
      expect(taken.status, spelling).toBe(409);
      expect(taken.body.error.code).toBe('DOMAIN_TAKEN');
    }
    const tenant = await call(server, 'POST', '/api/v1/tenants', { token: evil.adminToken, body: { name: 'Copycat', domain: acmeDomain().toUpperCase() } });
    expect(tenant.status).toBe(409);
    expect(tenant.body.error.code).toBe('DOMAIN_TAKEN');
    const patched = await call(server, 'PATCH', `/api/v1/tenants/${evil.tenantId}`, { token: evil.adminToken, body: { domain: acmeDomain() } });
    expect(patched.body.error.code).toBe('DOMAIN_TAKEN');
    const cli = await server.cli(['domain', 'add', '--tenant', evil.tenantId, '--domain', 'BÜCHER.EXAMPLE']);
    expect(cli.stderr).toContain('DOMAIN_TAKEN');

    // Tenant tokens read their domains but cannot assign any.
    const byBearer = await call(server, 'POST', `/api/v1/tenants/${evil.tenantId}/domains`, { token: evil.bearer, body: { domain: 'evil-extra.example' } });
    expect(byBearer.status).toBe(403);
    const list = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.bearer });
    expect(list.body.data.map((d: { domain: string }) => d.domain)).toEqual([acmeDomain(), 'xn--bcher-kva.example'].sort());
    const foreign = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/domains`, { token: evil.bearer });
    expect(foreign.status).toBe(404);
    const bad = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.adminToken, body: { domain: 'not a domain' } });
    expect(bad.status).toBe(400);
    const reserved = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.adminToken, body: { domain: 'x.relaykey.invalid' } });
    expect(reserved.status).toBe(400);

    // Inside its own (IDNA) domain a login is fine, stored in canonical form.
    const login = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins`, { token: acme.bearer, body: { address: 'Jürgen@BÜCHER.example' } });
    expect(login.status).toBe(201);
    expect(login.body.address).toBe('jürgen@xn--bcher-kva.example');
  });

  it('aliases live in the tenant’s domains and are unique; a domain still in use cannot be removed', async () => {
    await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/domains`, { token: acme.adminToken, body: { domain: 'acme-alias.example' } });
    const alias = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, {
      token: acme.bearer,
      body: { address: 'Sales@Acme-Alias.example' },
    });
    expect(alias.status).toBe(201);
    expect(alias.body.address).toBe('sales@acme-alias.example');
    const duplicate = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, {
      token: acme.bearer,
      body: { address: 'sales@acme-alias.example' },
    });
    expect(duplicate.status).toBe(409);
    const asLogin = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins`, {
      token: acme.bearer,
      body: { address: 'sales@acme-alias.example' },
    });
    expect(asLogin.status).toBe(409);
    const aliasIsLogin = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, {
      token: acme.bearer,
      body: { address: acme.loginAddress },
    });
    expect(aliasIsLogin.status).toBe(409);
    const listed = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, { token: acme.loginBearer });
    expect(listed.body.data.map((a: { address: string }) => a.address)).toEqual(['sales@acme-alias.example']);
    const byLoginBearer = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, {
      token: acme.loginBearer,
      body: { address: 'x@acme-alias.example' },
    });
    expect(byLoginBearer.status).toBe(403);

    const inUse = await call(server, 'DELETE', `/api/v1/tenants/${acme.tenantId}/domains/acme-alias.example`, { token: acme.adminToken });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.code).toBe('DOMAIN_IN_USE');
    const primary = await call(server, 'DELETE', `/api/v1/tenants/${acme.tenantId}/domains/${acmeDomain()}`, { token: acme.adminToken });
    expect(primary.body.error.code).toBe('DOMAIN_IN_USE');
    const removedAlias = await call(server, 'DELETE', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases/sales@acme-alias.example`, {
      token: acme.bearer,
    });
    expect(removedAlias.status).toBe(204);
    const removed = await call(server, 'DELETE', `/api/v1/tenants/${acme.tenantId}/domains/ACME-ALIAS.example`, { token: acme.adminToken });
    expect(removed.status).toBe(204);
    const byBearer = await call(server, 'DELETE', `/api/v1/tenants/${acme.tenantId}/domains/${acmeDomain()}`, { token: acme.bearer });
    expect(byBearer.status).toBe(403);
  });

  it('rows that break the rule are listed by GET /api/v1/domain-report and `relaykey domain check`', async () => {
    const clean = await call(server, 'GET', '/api/v1/domain-report', { token: acme.adminToken });
    expect(clean.status).toBe(200);
    expect(clean.body).toMatchObject({ ok: true, total: 0, problems: [] });
    expect((await server.cli(['domain', 'check'])).code).toBe(0);
    expect((await call(server, 'GET', '/api/v1/domain-report', { token: acme.bearer })).status).toBe(403);

    // As a database from before domain ownership may hold: Evil's login in Acme's domain.
    await server.sql('INSERT INTO logins (id, tenant_id, address, created_at) VALUES (?, ?, ?, ?)', [
      '00000000-0000-4000-8000-00000000beef',
      evil.tenantId,
      `ceo@${acmeDomain()}`,
      new Date().toISOString(),
    ]);
    const report = await call(server, 'GET', '/api/v1/domain-report', { token: acme.adminToken });
    expect(report.body.ok).toBe(false);
    expect(report.body.problems).toEqual([
      {
        kind: 'login',
        id: '00000000-0000-4000-8000-00000000beef',
        tenant_id: evil.tenantId,
        address: `ceo@${acmeDomain()}`,
        problem: 'domain_owned_by_another_tenant',
      },
    ]);
    const cli = await server.cli(['domain', 'check', '--json']);
    expect(cli.code).toBe(3);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, total: 1 });
    await server.sql('DELETE FROM logins WHERE id = ?', ['00000000-0000-4000-8000-00000000beef']);
  });
});

describe('migration 005 on a database from before domain ownership', () => {
  it('gives each domain to its first tenant and reports the rest instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-domains-'));
    const handle = openDatabase(`sqlite:${join(dir, 'old.db')}`);
    try {
      const migrator = new Migrator({ db: handle.db, provider: migrationProvider('sqlite') });
      const { error } = await migrator.migrateTo('004-job-indexes');
      expect(error).toBeUndefined();
      const tenant = (id: string, domain: string | null, at: string) =>
        sql`INSERT INTO tenants (id, name, domain, webmail_url, connection_info, mail_backends, settings, created_at, updated_at)
            VALUES (${id}, ${id}, ${domain}, NULL, '{}', NULL, '{}', ${at}, ${at})`.execute(handle.db);
      const login = (id: string, tenantId: string, address: string) =>
        sql`INSERT INTO logins (id, tenant_id, address, created_at) VALUES (${id}, ${tenantId}, ${address}, '2026-01-01T00:00:00.000Z')`.execute(handle.db);
      await tenant('t-acme', 'Acme.Example', '2026-01-01T00:00:00.000Z');
      await tenant('t-evil', 'acme.example', '2026-01-02T00:00:00.000Z');
      await tenant('t-none', null, '2026-01-03T00:00:00.000Z');
      await login('l-1', 't-acme', 'alice@acme.example');
      await login('l-2', 't-evil', 'alice@acme.example');
      await login('l-3', 't-none', 'bob@nowhere.example');

      expect(await migrateToLatest(handle)).toContain('005-tenant-domains');
      const owners = await sql<{ domain: string; tenant_id: string }>`SELECT domain, tenant_id FROM tenant_domains`.execute(handle.db);
      expect(owners.rows).toEqual([{ domain: 'acme.example', tenant_id: 't-acme' }]);
      const store = createStore(handle);
      const report = await new DomainService({
        store,
        clock: systemClock,
        hashSecret: () => '',
        onCredentialChange: [],
        onTenantChange: [],
        onRecordedEvent: [],
      }).report();
      expect(report.problems.map((p) => [p.kind, p.id, p.problem])).toEqual([
        ['login', 'l-2', 'domain_owned_by_another_tenant'],
        ['login', 'l-3', 'domain_not_owned'],
        ['tenant_domain', 't-evil', 'domain_owned_by_another_tenant'],
      ]);
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
