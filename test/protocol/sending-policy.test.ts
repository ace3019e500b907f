// Allowed senders per credential, answered through the real policy listener of a real server
// (the same requests Postfix sends; Postfix itself: test/protocol/postfix-policy.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyListenerPort } from '../../src/protocol/postfix/extension.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { connectPolicy, type PolicyConnection, rcptRequest } from '../helpers/policy-client.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('allowed senders on %s', (dialect) => {
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;
  let policy: PolicyConnection;
  let acmeDomain: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, { env: { RELAYKEY_POLICY_PORT: '0' } });
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
    acmeDomain = acme.loginAddress.split('@')[1] as string;
    policy = await connectPolicy(policyListenerPort(server.runtime) as number);
  }, 120_000);
  afterAll(async () => {
    policy?.close();
    await server?.close();
  });

  const credential = async (tenant: SeededTenant, body: Record<string, unknown>, token = tenant.bearer) => {
    const created = await call(server, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, { token, body: { name: 'k', scopes: ['smtp'], ...body } });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; secret: string; allowed_senders: string[] | null };
  };
  const identityOf = (tenant: SeededTenant, id: string) => `${id}@${tenant.tenantId}.relaykey.invalid`;

  it('a login-bound credential sends as its login and its aliases; not as another login or tenant (5.7.1)', async () => {
    await credential(acme, { login_id: acme.loginId });
    const bob = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins`, { token: acme.adminToken, body: { address: `bob@${acmeDomain}` } });
    expect(bob.status, bob.text).toBe(201);
    const alias = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/logins/${acme.loginId}/aliases`, {
      token: acme.adminToken,
      body: { address: `sales@${acmeDomain}` },
    });
    expect(alias.status, alias.text).toBe(201);
    server.runtime.services.sendingPolicy.forget();

    expect(await policy.ask(rcptRequest(acme.loginAddress, acme.loginAddress))).toBe('DUNNO');
    expect(await policy.ask(rcptRequest(acme.loginAddress.toUpperCase(), `Alice@${acmeDomain.toUpperCase()}`))).toBe('DUNNO');
    expect(await policy.ask(rcptRequest(acme.loginAddress, `sales@${acmeDomain}`))).toBe('DUNNO');
    expect(await policy.ask(rcptRequest(acme.loginAddress, `bob@${acmeDomain}`))).toBe(
      `REJECT 5.7.1 sender bob@${acmeDomain} is not an allowed sender of this login`,
    );
    expect(await policy.ask(rcptRequest(acme.loginAddress, evil.loginAddress))).toBe(
      `REJECT 5.7.1 sender ${evil.loginAddress} is not in a domain of this tenant`,
    );
    expect(await policy.ask(rcptRequest(acme.loginAddress, 'not an address'))).toBe('REJECT 5.7.1 the sender address is malformed');
    // The null sender names nobody.
    expect(await policy.ask(rcptRequest(acme.loginAddress, ''))).toBe('DUNNO');
  });

  it('a tenant-wide credential sends as any address in its tenant by default, never another tenant', async () => {
    const wide = await credential(acme, {});
    expect(wide.allowed_senders).toBeNull();
    expect(await policy.ask(rcptRequest(identityOf(acme, wide.id), `anyone@${acmeDomain}`))).toBe('DUNNO');
    expect((await policy.ask(rcptRequest(identityOf(acme, wide.id), evil.loginAddress))).startsWith('REJECT 5.7.1')).toBe(true);
  });

  it('allowed_senders set on create and PATCH, canonical, shown in lists; other domains are 422, malformed 400', async () => {
    const narrow = await credential(acme, { allowed_senders: [`News@${acmeDomain.toUpperCase()}`] });
    expect(narrow.allowed_senders).toEqual([`news@${acmeDomain}`]);
    const id = identityOf(acme, narrow.id);
    expect(await policy.ask(rcptRequest(id, `news@${acmeDomain}`))).toBe('DUNNO');
    expect((await policy.ask(rcptRequest(id, `other@${acmeDomain}`))).startsWith('REJECT 5.7.1')).toBe(true);

    const foreign = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.bearer,
      body: { name: 'x', scopes: ['smtp'], allowed_senders: [`@${evil.loginAddress.split('@')[1]}`] },
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.error?.code ?? foreign.body.code).toBe('DOMAIN_NOT_OWNED');
    const malformed = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}/credentials/${narrow.id}`, {
      token: acme.bearer,
      body: { allowed_senders: ['not an address'] },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('neither an address nor @domain');

    const patched = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}/credentials/${narrow.id}`, {
      token: acme.bearer,
      body: { allowed_senders: [`@${acmeDomain}`] },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.allowed_senders).toEqual([`@${acmeDomain}`]);
    // This node's change is seen at once.
    expect(await policy.ask(rcptRequest(id, `other@${acmeDomain}`))).toBe('DUNNO');
    const list = await call(server, 'GET', `/api/v1/tenants/${acme.tenantId}/credentials?per_page=100`, { token: acme.bearer });
    const listed = (list.body.items ?? list.body.data) as { id: string; allowed_senders: string[] | null }[];
    expect(listed.find((c) => c.id === narrow.id)?.allowed_senders).toEqual([`@${acmeDomain}`]);
  });

  it('a login-bound token may name only its login own addresses', async () => {
    const own = await credential(acme, { allowed_senders: [acme.loginAddress] }, acme.loginBearer);
    expect(own.allowed_senders).toEqual([acme.loginAddress]);
    const wider = await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials`, {
      token: acme.loginBearer,
      body: { name: 'x', scopes: ['smtp'], allowed_senders: [`@${acmeDomain}`] },
    });
    expect(wider.status, wider.text).toBe(403);
    const quota = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}/credentials/${own.id}`, {
      token: acme.loginBearer,
      body: { sending_limits: { messages_per_hour: 1000000 } },
    });
    expect(quota.status, quota.text).toBe(403);
  });

  it("tenant default allowed senders: for credentials bound to no login that name none; inside the tenant's domains; null restores the default", async () => {
    const wide = await credential(acme, {});
    const bound = await credential(acme, { login_id: acme.loginId });
    const id = identityOf(acme, wide.id);
    const foreign = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.adminToken,
      body: { settings: { default_allowed_senders: [`@${evil.loginAddress.split('@')[1]}`] } },
    });
    expect(foreign.status, foreign.text).toBe(422);
    expect(foreign.text).toContain('settings.default_allowed_senders');
    const malformed = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.adminToken,
      body: { settings: { default_allowed_senders: ['nobody'] } },
    });
    expect(malformed.status).toBe(400);
    const byTenantToken = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.bearer,
      body: { settings: { default_allowed_senders: [`news@${acmeDomain}`] } },
    });
    expect(byTenantToken.status).toBe(403);

    const set = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.adminToken,
      body: { settings: { default_allowed_senders: [`News@${acmeDomain.toUpperCase()}`] } },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body.settings.default_allowed_senders).toEqual([`news@${acmeDomain}`]);
    server.runtime.services.sendingPolicy.forget();
    expect(await policy.ask(rcptRequest(id, `news@${acmeDomain}`))).toBe('DUNNO');
    expect(await policy.ask(rcptRequest(id, `other@${acmeDomain}`))).toBe(`REJECT 5.7.1 sender other@${acmeDomain} is not an allowed sender of this login`);
    // A credential's own list wins over the tenant's; a login-bound credential keeps its login's addresses.
    const own = await credential(acme, { allowed_senders: [`other@${acmeDomain}`] });
    expect(await policy.ask(rcptRequest(identityOf(acme, own.id), `other@${acmeDomain}`))).toBe('DUNNO');
    expect(bound.allowed_senders).toBeNull();
    expect(await policy.ask(rcptRequest(acme.loginAddress, acme.loginAddress))).toBe('DUNNO');

    const cleared = await call(server, 'PATCH', `/api/v1/tenants/${acme.tenantId}`, {
      token: acme.adminToken,
      body: { settings: { default_allowed_senders: null } },
    });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.settings.default_allowed_senders).toBeNull();
    server.runtime.services.sendingPolicy.forget();
    expect(await policy.ask(rcptRequest(id, `other@${acmeDomain}`))).toBe('DUNNO');
  });

  it('a held credential may not send; an identity relaykey did not hand out is not judged', async () => {
    const held = await credential(acme, {});
    await call(server, 'POST', `/api/v1/tenants/${acme.tenantId}/credentials/${held.id}/hold`, { token: acme.bearer });
    expect((await policy.ask(rcptRequest(identityOf(acme, held.id), `x@${acmeDomain}`))).startsWith('REJECT 5.7.1')).toBe(true);
    expect(await policy.ask(rcptRequest('somebody@unknown.test', 'x@anything.test'))).toBe('DUNNO');
    expect(await policy.ask(rcptRequest('', 'x@anything.test'))).toBe('DUNNO');
  });
});
