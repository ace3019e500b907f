// The lean node:http path for POST /api/v1/verify and GET /auth/nginx answers exactly as the
// Fastify routes do: one runtime, two listeners (fast path on, and a Fastify-only app built
// as with RELAYKEY_FAST_PATH=off), the same request matrix against both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { buildRuntimeApp } from '../../src/runtime.js';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

const COMPARED_HEADERS = [
  'content-type',
  'content-length',
  'retry-after',
  'connection',
  'auth-status',
  'auth-server',
  'auth-port',
  'auth-wait',
  'auth-error-code',
];

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

async function answer(url: string, path: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  const headers: Record<string, string | null> = {};
  for (const name of COMPARED_HEADERS) headers[name] = response.headers.get(name);
  return { status: response.status, headers, body: text.replaceAll(requestId as string, '<request-id>') };
}

describe.each(DIALECTS)('fast path parity on %s', (dialect) => {
  let server: TestServer;
  let slowUrl: string;
  let closeSlow: () => Promise<void>;
  let seed: SeededTenant;
  let secret: string;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      clock,
      env: {
        RELAYKEY_THROTTLE_IP_LIMIT: '5',
        RELAYKEY_THROTTLE_USERNAME_LIMIT: '1000',
        RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110',
      },
    });
    const runtime = server.runtime;
    const slow = await buildApp({
      services: runtime.services,
      logger: runtime.logger,
      fastPath: false,
      ready: async () => true,
      extraSurfaces: server.runtime.extensions.flatMap((e) => e.surfaces ?? []),
    });
    await slow.listen({ host: '127.0.0.1', port: 0 });
    const address = slow.server.address();
    slowUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    closeSlow = () => slow.close();
    seed = await seedTenant(server);
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'phone', scopes: ['app'], login_id: seed.loginId },
    });
    secret = created.body.secret;
  }, 120_000);
  afterAll(async () => {
    await closeSlow?.();
    await server?.close();
  });

  it('the config flag turns the fast path off', async () => {
    expect(loadConfig({}).fastPath).toBe(true);
    expect(loadConfig({ RELAYKEY_FAST_PATH: 'off' }).fastPath).toBe(false);
    expect(() => loadConfig({ RELAYKEY_FAST_PATH: 'maybe' })).toThrow(/RELAYKEY_FAST_PATH/);
    expect(loadConfig({ RELAYKEY_VERIFY_CACHE_MAX_ENTRIES: '5000' }).verifyCacheMaxEntries).toBe(5000);
    // Built as `relaykey start` builds it: the OpenAPI document still lists both routes.
    const app = await buildRuntimeApp(server.runtime);
    await app.ready();
    const paths = (app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths;
    expect(paths['/api/v1/verify']?.post).toBeDefined();
    expect(paths['/auth/nginx']?.get).toBeDefined();
    await app.close();
  });

  it('POST /api/v1/verify: the same status, headers and body on both paths', async () => {
    const json = (token: string | undefined, body: string, extra: Record<string, string> = {}): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      body,
    });
    const good = { username: seed.loginAddress, password: secret, protocol: 'imap', client_ip: '198.51.100.1' };
    const matrix = (attacker: string): [string, RequestInit][] => [
      ['good', json(seed.verifier, JSON.stringify(good))],
      ['good, charset', json(seed.verifier, JSON.stringify(good), { 'content-type': 'application/json; charset=utf-8' })],
      ['denied', json(seed.verifier, JSON.stringify({ ...good, password: `${secret.slice(0, -2)}zz`, client_ip: attacker }))],
      ['not a key', json(seed.verifier, JSON.stringify({ ...good, password: 'hunter2', client_ip: attacker }))],
      ['bad json', json(seed.verifier, '{"username": ')],
      ['empty body', json(seed.verifier, '')],
      ['proto poisoning', json(seed.verifier, '{"__proto__": {"x": 1}}')],
      ['unknown field', json(seed.verifier, JSON.stringify({ ...good, extra: 1 }))],
      ['missing field', json(seed.verifier, JSON.stringify({ username: 'a', password: 'b' }))],
      ['wrong type', json(seed.verifier, JSON.stringify({ ...good, protocol: 'gopher' }))],
      ['array body', json(seed.verifier, '[]')],
      ['oversized', json(seed.verifier, JSON.stringify({ ...good, user_agent: 'x'.repeat(1024 * 1024 + 10) }))],
      ['text/plain', json(seed.verifier, JSON.stringify(good), { 'content-type': 'text/plain' })],
      ['wrong token kind', json(seed.bearer, JSON.stringify(good))],
      ['unknown token', json(`${seed.verifier.slice(0, -3)}abc`, JSON.stringify(good))],
      ['no token', json(undefined, JSON.stringify(good))],
      ['basic auth', json(undefined, JSON.stringify(good), { authorization: 'Basic eDp5' })],
    ];
    const throttle = async (url: string, attacker: string) => {
      const wrong = { ...good, password: `${secret.slice(0, -2)}yy`, client_ip: attacker };
      for (let i = 0; i < 5; i += 1) await fetch(`${url}/api/v1/verify`, json(seed.verifier, JSON.stringify(wrong))).then((r) => r.text());
      return answer(url, '/api/v1/verify', json(seed.verifier, JSON.stringify(wrong)));
    };
    const results: Record<string, Answer>[] = [];
    for (const [url, attacker] of [
      [server.url, '203.0.113.1'],
      [slowUrl, '203.0.113.2'],
    ] as const) {
      const row: Record<string, Answer> = {};
      for (const [name, init] of matrix(`${attacker}0`)) row[name] = await answer(url, '/api/v1/verify', init);
      row.throttled = await throttle(url, attacker);
      results.push(row);
    }
    const [fast, slow] = results as [Record<string, Answer>, Record<string, Answer>];
    expect(fast).toEqual(slow);
    expect(fast.good?.status).toBe(200);
    expect(JSON.parse(fast.good?.body ?? '')).toMatchObject({ valid: true, tenant_id: seed.tenantId, login: seed.loginAddress, scopes: ['app'] });
    expect(fast.denied).toMatchObject({ status: 401, body: '{"valid":false}' });
    expect(fast.throttled?.status).toBe(429);
    expect(Number(fast.throttled?.headers['retry-after'])).toBeGreaterThan(0);
    expect(fast['bad json']?.status).toBe(400);
    expect(fast['bad json']?.body).toContain('MALFORMED_JSON');
    expect(fast['unknown field']?.body).toContain('body has an unknown field \\"extra\\"');
    expect(fast.oversized?.status).toBe(413);
    expect(fast['text/plain']?.status).toBe(400);
    expect(fast['wrong token kind']?.status).toBe(403);
    expect(fast['no token']?.status).toBe(401);
    expect(fast['unknown token']?.status).toBe(401);
  });

  it('GET /auth/nginx: the same status, Auth-* headers and body on both paths', async () => {
    const request = (token: string | undefined, headers: Record<string, string>): RequestInit => ({
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'auth-method': 'plain',
        'auth-protocol': 'smtp',
        'auth-login-attempt': '1',
        ...headers,
      },
    });
    const good = { 'auth-user': seed.loginAddress, 'auth-pass': secret, 'client-ip': '198.51.100.2' };
    const matrix = (attacker: string): [string, RequestInit][] => [
      ['good', request(seed.verifier, good)],
      ['good imap', request(seed.verifier, { ...good, 'auth-protocol': 'imap' })],
      ['denied', request(seed.verifier, { ...good, 'auth-pass': `${secret.slice(0, -2)}zz`, 'client-ip': attacker })],
      ['denied, last attempt', request(seed.verifier, { ...good, 'auth-pass': 'x', 'auth-login-attempt': '10', 'client-ip': attacker })],
      ['unsupported method', request(seed.verifier, { ...good, 'auth-method': 'apop' })],
      ['unsupported protocol', request(seed.verifier, { ...good, 'auth-protocol': 'gopher' })],
      ['wrong token kind', request(seed.server, good)],
      ['unknown token', request(`${seed.verifier.slice(0, -3)}abc`, good)],
      ['no token', request(undefined, good)],
    ];
    const results: Record<string, Answer>[] = [];
    for (const [url, attacker] of [
      [server.url, '203.0.113.3'],
      [slowUrl, '203.0.113.4'],
    ] as const) {
      const row: Record<string, Answer> = {};
      for (const [name, init] of matrix(`${attacker}0`)) row[name] = await answer(url, '/auth/nginx', init);
      const wrong = { ...good, 'auth-pass': 'rk_not-a-key', 'client-ip': attacker };
      for (let i = 0; i < 5; i += 1) await fetch(`${url}/auth/nginx`, request(seed.verifier, wrong)).then((r) => r.text());
      row.throttled = await answer(url, '/auth/nginx', request(seed.verifier, wrong));
      results.push(row);
    }
    const [fast, slow] = results as [Record<string, Answer>, Record<string, Answer>];
    expect(fast).toEqual(slow);
    expect(fast.good?.headers).toMatchObject({ 'auth-status': 'OK', 'auth-server': '127.0.0.1', 'auth-port': '10025' });
    expect(fast.denied?.headers['auth-status']).toBe('Invalid login or password');
    expect(fast.throttled?.headers['auth-status']).toBe('Too many failed logins, try again later');
    expect(fast['wrong token kind']?.status).toBe(403);
    expect(fast['no token']?.status).toBe(401);
  });
});
