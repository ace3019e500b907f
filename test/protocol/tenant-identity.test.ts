// Canonical identities, case-insensitive user names, trusted proxies and per-tenant throttling,
// over real HTTP (the mail servers themselves: test/protocol/mail-servers.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const PROXY = '127.0.0.1';
// The per-tenant counters in memory and in Redis (behind the local fallback).
const STORES = [
  ['memory', {}],
  ['redis', { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' }],
] as const;
const cases = DIALECTS.flatMap((dialect) => STORES.map(([store, env]) => [dialect, store, env] as const));

describe.each(cases)('tenant identity on %s with %s counters', (dialect, _store, storeEnv) => {
  let server: TestServer;
  let acme: SeededTenant;
  let evil: SeededTenant;

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      env: {
        ...storeEnv,
        RELAYKEY_THROTTLE_IP_LIMIT: '20',
        RELAYKEY_THROTTLE_USERNAME_LIMIT: '10',
        RELAYKEY_TRUSTED_PROXIES: '127.0.0.0/8, ::1/128',
        RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110',
      },
    });
    acme = await seedTenant(server, 'Acme');
    evil = await seedTenant(server, 'Evil');
  }, 120_000);
  afterAll(async () => server?.close());

  const credential = async (tenant: SeededTenant, body: Record<string, unknown>) => {
    const created = await call(server, 'POST', `/api/v1/tenants/${tenant.tenantId}/credentials`, { token: tenant.bearer, body: { name: 'k', ...body } });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; secret: string };
  };
  const nginx = (tenant: SeededTenant, headers: Record<string, string>) =>
    fetch(`${server.url}/auth/nginx`, {
      headers: { authorization: `Bearer ${tenant.verifier}`, 'auth-method': 'plain', 'auth-protocol': 'smtp', 'auth-login-attempt': '1', ...headers },
    });

  it('every successful verification names the canonical identity; nginx sends it as Auth-User', async () => {
    const bound = await credential(acme, { scopes: ['app'], login_id: acme.loginId });
    const asLogin = await verify(server, acme.verifier, {
      username: acme.loginAddress.toUpperCase(),
      password: bound.secret,
      protocol: 'imap',
      client_ip: '198.51.100.1',
    });
    expect(asLogin.body).toMatchObject({ valid: true, identity: acme.loginAddress, login: acme.loginAddress });

    const unbound = await credential(acme, { scopes: ['smtp'] });
    const tenantWide = await verify(server, acme.verifier, { username: unbound.id, password: unbound.secret, protocol: 'smtp', client_ip: '198.51.100.1' });
    expect(tenantWide.body.identity).toBe(`${unbound.id}@${acme.tenantId}.relaykey.invalid`);

    // Seed 001: any user name is accepted (as Postal does) but never handed on.
    const seed001 = await call(server, 'POST', '/api/v1/credentials/create', { body: { name: 'relay' }, headers: { 'X-Server-API-Key': acme.server } });
    const key = seed001.body.data.key as string;
    const foreign = await verify(server, acme.verifier, {
      username: `ceo@${evil.loginAddress.split('@')[1]}`,
      password: key,
      protocol: 'smtp',
      client_ip: '198.51.100.1',
    });
    expect(foreign.status).toBe(200);
    expect(foreign.body.identity).toBe(`${foreign.body.credential_id}@${acme.tenantId}.relaykey.invalid`);
    const answer = await nginx(acme, { 'auth-user': `ceo@${evil.loginAddress.split('@')[1]}`, 'auth-pass': key, 'client-ip': '198.51.100.1' });
    expect(answer.headers.get('auth-status')).toBe('OK');
    expect(answer.headers.get('auth-user')).toBe(foreign.body.identity);

    // A backend behind nginx checks the password again with the name nginx handed on.
    for (const [secret, identity] of [
      [bound.secret, acme.loginAddress],
      [unbound.secret, tenantWide.body.identity],
      [key, foreign.body.identity],
    ]) {
      const again = await verify(server, acme.verifier, { username: identity, password: secret, protocol: 'smtp', client_ip: '198.51.100.1' });
      expect(again.status, identity).toBe(200);
    }
  });

  it('a seed 003 Key works lower-cased (Dovecot %Lu); the Secret stays case-sensitive', async () => {
    const created = await call(server, 'POST', '/api/v1/account/api_key', { token: acme.bearer, body: { role: 'standard', name: 'dovecot' } });
    const { Key, Secret } = created.body as { Key: string; Secret: string };
    const lower = await verify(server, acme.verifier, { username: Key.toLowerCase(), password: Secret, protocol: 'imap', client_ip: '198.51.100.2' });
    expect(lower.status).toBe(200);
    expect(lower.body.identity).toBe(`${lower.body.credential_id}@${acme.tenantId}.relaykey.invalid`);
    const flipped = Secret.replace(/[a-z]/, (c) => c.toUpperCase());
    expect(flipped).not.toBe(Secret);
    expect((await verify(server, acme.verifier, { username: Key, password: flipped, protocol: 'imap', client_ip: '198.51.100.2' })).status).toBe(401);
  });

  it('a trusted proxy address is never throttled nor network-matched; the real client address is', async () => {
    const limited = await credential(acme, { scopes: ['imap'], login_id: acme.loginId, allowed_networks: ['127.0.0.0/8', '192.0.2.0/24'] });
    // The proxy's own address inside the key's networks does not let the key in...
    expect((await verify(server, acme.verifier, { username: acme.loginAddress, password: limited.secret, protocol: 'imap', client_ip: PROXY })).status).toBe(
      401,
    );
    // ...the real client's does (nginx's Client-IP, PROXY protocol through Dovecot).
    expect(
      (await verify(server, acme.verifier, { username: acme.loginAddress, password: limited.secret, protocol: 'imap', client_ip: '192.0.2.7' })).status,
    ).toBe(200);
    const viaNginx = await nginx(acme, { 'auth-protocol': 'imap', 'auth-user': acme.loginAddress, 'auth-pass': limited.secret, 'client-ip': '192.0.2.8' });
    expect(viaNginx.headers.get('auth-status')).toBe('OK');

    const metric = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^relaykey_trusted_proxy_verifications_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    };
    const before = await metric();
    for (let i = 0; i < 30; i += 1) {
      const denied = await verify(server, acme.verifier, { username: acme.loginAddress, password: 'rk_wrong', protocol: 'imap', client_ip: PROXY });
      expect(denied.status).toBe(401);
    }
    expect(await metric()).toBe(before + 30);
  });

  it("50 failures with one tenant's keys never throttle another tenant's users, even from the same address", async () => {
    const attacker = '203.0.113.66';
    const evilKey = await credential(evil, { scopes: ['app'], login_id: evil.loginId });
    for (let i = 0; i < 50; i += 1) {
      // Evil's key tried on Acme's addresses (a spray: the per-address limit applies).
      const r = await verify(server, evil.verifier, {
        username: `u${i}@${acme.loginAddress.split('@')[1]}`,
        password: evilKey.secret,
        protocol: 'imap',
        client_ip: attacker,
      });
      expect([401, 429]).toContain(r.status);
    }
    // Evil is throttled on that address...
    expect((await verify(server, evil.verifier, { username: evil.loginAddress, password: evilKey.secret, protocol: 'imap', client_ip: attacker })).status).toBe(
      429,
    );
    // ...Acme's user is not: not from another address, and not even from the same one.
    const acmeKey = await credential(acme, { scopes: ['app'], login_id: acme.loginId });
    for (const ip of ['198.51.100.99', attacker]) {
      const r = await verify(server, acme.verifier, { username: acme.loginAddress, password: acmeKey.secret, protocol: 'imap', client_ip: ip });
      expect(r.status, ip).toBe(200);
    }
    // Failures with keys that match nobody still count against their address for everyone.
    const guesser = '203.0.113.67';
    for (let i = 0; i < 20; i += 1)
      await verify(server, acme.verifier, { username: `x${i}@nowhere.example`, password: 'rk_guess', protocol: 'imap', client_ip: guesser });
    expect((await verify(server, acme.verifier, { username: acme.loginAddress, password: acmeKey.secret, protocol: 'imap', client_ip: guesser })).status).toBe(
      429,
    );
  });
});
