// Failed logins slow clients down and then refuse them for a sliding window, per IP and per
// username, in memory and in Redis; a good login from another IP always gets through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../src/clock.js';
import { decodeNginxHeader } from '../../src/protocol/nginx/header-decoding.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const STORES = [
  ['memory', {}],
  ['redis', { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' }],
] as const;

const cases = DIALECTS.flatMap((dialect) => STORES.map(([store, env]) => [dialect, store, env] as const));

describe.each(cases)('login throttling on %s with %s counters', (dialect, _store, env) => {
  let server: TestServer;
  let seed: SeededTenant;
  let secret: string;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      clock,
      env: {
        ...env,
        RELAYKEY_THROTTLE_IP_LIMIT: '20',
        RELAYKEY_THROTTLE_USERNAME_LIMIT: '10',
        RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110',
      },
    });
    seed = await seedTenant(server);
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'phone', scopes: ['app'], login_id: seed.loginId },
    });
    secret = created.body.secret;
  }, 120_000);
  afterAll(async () => server?.close());

  const nginx = (headers: Record<string, string>) =>
    fetch(`${server.url}/auth/nginx`, {
      headers: { authorization: `Bearer ${seed.verifier}`, 'auth-method': 'plain', 'auth-protocol': 'smtp', 'auth-login-attempt': '1', ...headers },
    });

  it('answers 401, then 429 with Retry-After for the attacking IP, while another IP logs in', async () => {
    const attacker = '203.0.113.9';
    const wrong = { username: seed.loginAddress, password: `${secret.slice(0, -2)}zz`, protocol: 'imap', client_ip: attacker };
    // A spray over many usernames: only the per-IP limit (20 in 15 minutes) applies.
    for (let i = 0; i < 20; i += 1) expect((await verify(server, seed.verifier, { ...wrong, username: `user${i}@example.test` })).status).toBe(401);
    const throttled = await verify(server, seed.verifier, wrong);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe('RATE_LIMITED');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(800);
    // Even the right key is refused from the throttled IP (no oracle while throttled)...
    expect((await verify(server, seed.verifier, { ...wrong, password: secret })).status).toBe(429);
    // ...but not from another IP.
    expect((await verify(server, seed.verifier, { ...wrong, password: secret, client_ip: '198.51.100.7' })).status).toBe(200);
    // Never permanent: once the window slides on, the IP may try again.
    clock.advance(16 * MINUTE);
    expect((await verify(server, seed.verifier, { ...wrong, password: secret })).status).toBe(200);
  });

  it('one IP failing on one username is refused after the username limit (10)', async () => {
    const wrong = { username: seed.loginAddress, password: `${secret.slice(0, -2)}xx`, protocol: 'pop3', client_ip: '203.0.113.30' };
    for (let i = 0; i < 10; i += 1) expect((await verify(server, seed.verifier, wrong)).status).toBe(401);
    expect((await verify(server, seed.verifier, wrong)).status).toBe(429);
    expect((await verify(server, seed.verifier, { ...wrong, password: secret, client_ip: '198.51.100.30' })).status).toBe(200);
    clock.advance(16 * MINUTE);
  });

  it('a username under attack from many IPs stays usable from a clean IP', async () => {
    const wrong = { username: seed.loginAddress, password: `${secret.slice(0, -2)}yy`, protocol: 'smtp' };
    for (let i = 0; i < 10; i += 1) expect((await verify(server, seed.verifier, { ...wrong, client_ip: `192.0.2.${i + 1}` })).status).toBe(401);
    // An attacking IP that failed once now gets no second guess at this username...
    expect((await verify(server, seed.verifier, { ...wrong, client_ip: '192.0.2.1' })).status).toBe(429);
    // ...while the real user, from an IP without failures, logs in.
    expect((await verify(server, seed.verifier, { ...wrong, password: secret, client_ip: '198.51.100.8' })).status).toBe(200);
    clock.advance(16 * MINUTE);
  });

  it('nginx: failures carry a growing Auth-Wait, then the throttled text; no Auth-Wait after 10 attempts', async () => {
    const ip = '203.0.113.10';
    const bad = { 'auth-user': seed.loginAddress, 'auth-pass': 'rk_not-a-key', 'client-ip': ip };
    const waits: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await nginx({ ...bad, 'auth-user': `spray${i}@example.test` });
      expect(response.status).toBe(200);
      expect(response.headers.get('auth-status')).toBe('Invalid login or password');
      expect(response.headers.get('auth-error-code')).toBe('535 5.7.8');
      waits.push(Number(response.headers.get('auth-wait')));
    }
    expect(waits.slice(0, 3)).toEqual([1, 1, 1]);
    expect(waits[3]).toBe(2);
    expect(waits[19]).toBe(30);
    const throttled = await nginx({ ...bad, 'auth-pass': encodeURIComponent(secret) });
    expect(throttled.headers.get('auth-status')).toBe('Too many failed logins, try again later');
    expect(Number(throttled.headers.get('auth-wait'))).toBe(60);
    const lastAttempt = await nginx({ ...bad, 'auth-login-attempt': '10' });
    expect(lastAttempt.headers.get('auth-wait')).toBeNull();

    const good = await nginx({ 'auth-user': seed.loginAddress, 'auth-pass': secret, 'client-ip': '198.51.100.9' });
    expect(good.headers.get('auth-status')).toBe('OK');
    expect(good.headers.get('auth-server')).toBe('127.0.0.1');
    expect(good.headers.get('auth-port')).toBe('10025');
    clock.advance(16 * MINUTE);
  });

  it('nginx: apop and cram-md5 fail cleanly; tenant backends override the defaults; a wrong verifier token is refused', async () => {
    for (const method of ['apop', 'cram-md5']) {
      const response = await nginx({ 'auth-method': method, 'auth-user': seed.loginAddress, 'auth-pass': 'x', 'client-ip': '198.51.100.20' });
      expect(response.status).toBe(200);
      expect(response.headers.get('auth-status')).toBe('Unsupported authentication method');
      expect(response.headers.get('auth-error-code')).toBe('504 5.5.4');
      expect(response.headers.get('auth-wait')).toBeNull();
    }
    const patched = await call(server, 'PATCH', `/api/v1/tenants/${seed.tenantId}`, {
      token: seed.adminToken,
      body: { mail_backends: { imap: '127.0.0.2:1143' } },
    });
    expect(patched.status).toBe(200);
    clock.advance(MINUTE);
    const imap = await nginx({ 'auth-protocol': 'imap', 'auth-user': seed.loginAddress, 'auth-pass': secret, 'client-ip': '198.51.100.21' });
    expect(imap.headers.get('auth-status')).toBe('OK');
    expect(imap.headers.get('auth-error-code')).toBeNull();
    expect(`${imap.headers.get('auth-server')}:${imap.headers.get('auth-port')}`).toBe('127.0.0.2:1143');
    const pop3 = await nginx({ 'auth-protocol': 'pop3', 'auth-user': seed.loginAddress, 'auth-pass': secret, 'client-ip': '198.51.100.21' });
    expect(`${pop3.headers.get('auth-server')}:${pop3.headers.get('auth-port')}`).toBe('127.0.0.1:10110');
    const wrongToken = await fetch(`${server.url}/auth/nginx`, {
      headers: { authorization: `Bearer ${seed.bearer}`, 'auth-method': 'plain', 'auth-protocol': 'smtp' },
    });
    expect(wrongToken.status).toBe(403);
  });
});

describe('nginx Auth-User/Auth-Pass decoding', () => {
  const asNodeReadsIt = (bytes: Buffer) => bytes.toString('latin1');
  it('turns %XX into bytes and reads the bytes as UTF-8', () => {
    expect(decodeNginxHeader(asNodeReadsIt(Buffer.from('pässwörd%20with%25space+plus', 'utf8')))).toBe('pässwörd with%space+plus');
    expect(decodeNginxHeader(asNodeReadsIt(Buffer.from('%E2%82%AC€', 'utf8')))).toBe('€€');
    expect(decodeNginxHeader('100%')).toBe('100%');
    expect(decodeNginxHeader('%zz')).toBe('%zz');
    expect(decodeNginxHeader(undefined)).toBe('');
  });
});
