// Every verification outcome is counted in /metrics by outcome, protocol and surface, with
// latencies and cache figures; every denial writes one log line with its reason (never the
// secret), and a flood of denials cannot flood the log.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HOUR, ManualClock } from '../../src/clock.js';
import { VERIFICATION_OUTCOMES } from '../../src/domain/verification-outcomes.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** The value of one sample in the Prometheus text format, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      (match[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=').map((s) => s.replace(/"/g, '')) as [string, string]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return 0;
}

async function metrics(server: TestServer): Promise<string> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('verification metrics and the denied-login log', () => {
  const clock = new ManualClock(new Date());
  let server: TestServer;
  let seed: SeededTenant;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      clock,
      env: { RELAYKEY_THROTTLE_USERNAME_LIMIT: '3', RELAYKEY_THROTTLE_SLOWDOWN_AFTER: '100', RELAYKEY_DENIED_LOG_PER_SECOND: '5' },
    });
    seed = await seedTenant(server);
    const create = async (name: string, body: Record<string, unknown>) => {
      const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
        token: seed.bearer,
        body: { name, login_id: seed.loginId, ...body },
      });
      expect(created.status, created.text).toBe(201);
      secrets[name] = created.body.secret;
      return created.body.id as string;
    };
    await create('plain', { scopes: ['imap', 'smtp'] });
    await create('smtp-only', { scopes: ['smtp'] });
    await create('office', { scopes: ['imap'], allowed_networks: ['192.0.2.0/24'] });
    const held = await create('held', { scopes: ['imap'] });
    const revoked = await create('revoked', { scopes: ['imap'] });
    await create('expiring', { scopes: ['imap'], expires_at: new Date(clock.now().getTime() + HOUR).toISOString() });
    expect((await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${held}/hold`, { token: seed.bearer })).status).toBe(200);
    expect(
      (
        await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials/${revoked}/revoke`, {
          token: seed.bearer,
          body: { reason: 'left the company' },
        })
      ).status,
    ).toBe(200);
    clock.advance(2 * HOUR);
  });
  afterAll(async () => server?.close());

  it('counts every outcome by protocol and surface, with latencies and cache figures', async () => {
    const before = await metrics(server);
    const user = seed.loginAddress;
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['valid', { username: user, password: secrets.plain, protocol: 'imap' }],
      ['valid', { username: user, password: secrets.plain, protocol: 'imap' }],
      ['unknown_key', { username: 'u1@x.test', password: `${secrets.plain?.slice(0, -1)}${secrets.plain?.endsWith('A') ? 'B' : 'A'}`, protocol: 'imap' }],
      ['wrong_user', { username: 'mallory@x.test', password: secrets.plain, protocol: 'imap' }],
      ['scope', { username: 'u2@x.test', password: secrets['smtp-only'], protocol: 'imap' }],
      ['network', { username: 'u3@x.test', password: secrets.office, protocol: 'imap', client_ip: '198.51.100.7' }],
      ['held', { username: 'u4@x.test', password: secrets.held, protocol: 'imap' }],
      ['revoked', { username: 'u5@x.test', password: secrets.revoked, protocol: 'imap' }],
      ['expired', { username: 'u6@x.test', password: secrets.expiring, protocol: 'imap' }],
    ];
    // Spaced out so that every denial fits under the log limit of 5 a second.
    const pause = () => new Promise((resolve) => setTimeout(resolve, 210));
    for (const [outcome, body] of attempts) {
      await pause();
      const answer = await verify(server, seed.verifier, body);
      expect(answer.status, outcome).toBe(outcome === 'valid' ? 200 : 401);
    }
    // Three failures for one user name, then the throttle answers.
    for (let i = 0; i < 3; i += 1) {
      await pause();
      await verify(server, seed.verifier, { username: 'flood@x.test', password: 'not-a-key', protocol: 'smtp' });
    }
    await pause();
    expect((await verify(server, seed.verifier, { username: 'flood@x.test', password: 'not-a-key', protocol: 'smtp' })).status).toBe(429);
    // nginx's auth_http is its own surface.
    await pause();
    const nginx = await fetch(`${server.url}/auth/nginx`, {
      headers: {
        authorization: `Bearer ${seed.verifier}`,
        'auth-method': 'plain',
        'auth-user': 'u7@x.test',
        'auth-pass': 'wrong',
        'auth-protocol': 'pop3',
        'client-ip': '203.0.113.9',
      },
    });
    expect(nginx.headers.get('auth-status')).toBe('Invalid login or password');

    const after = await metrics(server);
    const delta = (labels: Record<string, string>) =>
      sample(after, 'relaykey_verifications_total', labels) - sample(before, 'relaykey_verifications_total', labels);
    expect(delta({ outcome: 'valid', protocol: 'imap', surface: 'verify_api' })).toBe(2);
    for (const outcome of ['unknown_key', 'wrong_user', 'scope', 'network', 'held', 'revoked', 'expired']) {
      expect(delta({ outcome, protocol: 'imap', surface: 'verify_api' }), outcome).toBe(1);
    }
    expect(delta({ outcome: 'unknown_key', protocol: 'smtp', surface: 'verify_api' })).toBe(3);
    expect(delta({ outcome: 'throttled', protocol: 'smtp', surface: 'verify_api' })).toBe(1);
    expect(delta({ outcome: 'unknown_key', protocol: 'pop3', surface: 'auth_http' })).toBe(1);
    for (const outcome of VERIFICATION_OUTCOMES) expect(after).toMatch(new RegExp(`relaykey_verifications_total\\{[^}]*outcome="${outcome}"`));

    expect(sample(after, 'relaykey_verification_duration_seconds_count', { surface: 'verify_api', result: 'allowed' })).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'relaykey_verification_duration_seconds_count', { surface: 'verify_api', result: 'denied' })).toBeGreaterThanOrEqual(11);
    expect(sample(after, 'relaykey_verification_duration_seconds_bucket', { surface: 'verify_api', result: 'allowed', le: '+Inf' })).toBeGreaterThanOrEqual(2);
    // The second valid attempt came from the cache.
    expect(sample(after, 'relaykey_verify_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'relaykey_verify_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'relaykey_verify_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'relaykey_verify_cache_hit_ratio')).toBeGreaterThan(0);
    expect(sample(after, 'relaykey_login_throttle_backend', { backend: 'memory' })).toBe(1);
    expect(after).toMatch(/relaykey_change_feed_enabled\{channel="redis"\} 0/);
    expect(after).toMatch(/relaykey_verify_cache_resets_total \d+/);

    // One log line per denial with its reason, the user name and the client address.
    const denied = server.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'verification denied');
    const network = denied.find((entry) => entry.reason === 'network');
    expect(network).toMatchObject({ user: 'u3@x.test', client_ip: '198.51.100.7', protocol: 'imap', surface: 'verify_api' });
    expect(denied.find((entry) => entry.reason === 'unknown_key' && entry.surface === 'auth_http')).toMatchObject({
      user: 'u7@x.test',
      client_ip: '203.0.113.9',
    });
    for (const reason of ['wrong_user', 'scope', 'held', 'revoked', 'expired', 'throttled'])
      expect(
        denied.some((entry) => entry.reason === reason),
        reason,
      ).toBe(true);
    // Allowed ones only at debug (the server logs at info).
    expect(server.logs.some((line) => line.includes('verification allowed'))).toBe(false);
    // Never a secret.
    const all = server.logs.join('\n');
    for (const secret of Object.values(secrets)) expect(all).not.toContain(secret);
  });

  it('a flood of denials is held to RELAYKEY_DENIED_LOG_PER_SECOND lines and the rest are counted', async () => {
    const before = await metrics(server);
    const linesBefore = server.logs.filter((line) => line.includes('"verification denied"')).length;
    const started = Date.now();
    const flood = 300;
    for (let batch = 0; batch < flood / 50; batch += 1) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          verify(server, seed.verifier, { username: `attacker${batch}-${i}@x.test`, password: 'guess', protocol: 'imap', client_ip: '192.0.2.66' }),
        ),
      );
    }
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    const lines = server.logs.filter((line) => line.includes('"verification denied"')).length - linesBefore;
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThanOrEqual(5 * seconds);
    const after = await metrics(server);
    const suppressed = sample(after, 'relaykey_denied_log_suppressed_total') - sample(before, 'relaykey_denied_log_suppressed_total');
    expect(lines + suppressed).toBe(flood);
    // The next line written says how many were left out before it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await verify(server, seed.verifier, { username: 'late@x.test', password: 'guess', protocol: 'imap' });
    const last = JSON.parse(server.logs.filter((line) => line.includes('"verification denied"')).at(-1) as string);
    expect(last.user).toBe('late@x.test');
    expect(last.suppressed_before).toBeGreaterThan(0);
  });

  it('the Grafana dashboard in docs/ asks only for metrics that /metrics serves', async () => {
    const dashboard = readFileSync(join(ROOT, 'docs/grafana-dashboard.json'), 'utf8');
    const names = new Set([...dashboard.matchAll(/relaykey_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    expect(names.size).toBeGreaterThan(5);
    const served = await metrics(server);
    for (const name of names) expect(served, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });
});
