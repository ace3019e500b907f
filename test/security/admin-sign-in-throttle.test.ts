// Admin sign-in and re-auth over HTTP under attack: growing waits answered 429 with Retry-After,
// the audit trail grows by a few aggregated events rather than one row per attempt, and an
// anonymous caller's email text is never stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { call } from '../helpers/api.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('admin sign-in throttle on %s', (dialect) => {
  let server: TestServer;
  const clock = new ManualClock(new Date());
  const email = 'guarded@relaykey.test';
  const password = 'the right admin password';

  beforeAll(async () => {
    server = await startTestServer(dialect, { clock, env: { RELAYKEY_ADMIN_THROTTLE_AFTER: '3' } });
    await server.cliJson(['admin', 'create', '--email', email, '--password', password]);
  });
  afterAll(async () => server?.close());

  const failedEvents = async (event: string) =>
    Number((await server.sql<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events WHERE event = ?', [event]))[0]?.n);

  it('30 wrong passwords in a row meet growing waits (429, Retry-After); the audit trail does not grow per attempt', async () => {
    const statuses: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 30; i += 1) {
      const response = await call(server, 'POST', '/api/v1/auth/login', { body: { email, password: `wrong password ${i}` } });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.body.error.code).toBe('RATE_LIMITED');
        retryAfter = Number(response.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(20);
    // The right password from the client that kept failing waits too...
    const early = await call(server, 'POST', '/api/v1/auth/login', { body: { email, password } });
    expect(early.status).toBe(429);
    // ...and gets in once the wait is over: no permanent lockout.
    clock.advance(retryAfter * 1000);
    const late = await call(server, 'POST', '/api/v1/auth/login', { body: { email, password } });
    expect(late.status, late.text).toBe(200);
    expect(await failedEvents('admin.login_failed')).toBeLessThanOrEqual(2);
  });

  it('failures for unknown emails are aggregated and their text is not stored', async () => {
    clock.advance(60 * 60_000);
    // Two minutes before a quarter hour of the wall clock: the three failures below straddle it
    // and are still one window (it opens with the first failure, it is not a fixed 15-minute grid).
    const quarter = 15 * 60_000;
    clock.set(new Date(Math.ceil(clock.now().getTime() / quarter) * quarter + quarter - 2 * 60_000));
    const before = await failedEvents('admin.login_failed');
    for (let i = 0; i < 3; i += 1) {
      const response = await call(server, 'POST', '/api/v1/auth/login', { body: { email: `sk_live_secret_${i}`, password: 'x' } });
      expect(response.status).toBe(401);
      clock.advance(120_000);
    }
    expect((await failedEvents('admin.login_failed')) - before).toBe(1);
    const rows = await server.sql<{ details: string }>('SELECT details FROM audit_events WHERE event = ?', ['admin.login_failed']);
    expect(JSON.stringify(rows)).not.toContain('sk_live_secret');
    // After the window (15 minutes from its first failure) the next failure opens a new one.
    clock.advance(15 * 60_000);
    await call(server, 'POST', '/api/v1/auth/login', { body: { email: 'someone-else@relaykey.test', password: 'x' } });
    expect((await failedEvents('admin.login_failed')) - before).toBe(2);
  });

  it('re-auth is throttled per session', async () => {
    clock.advance(60 * 60_000);
    const session = (await call(server, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.token as string;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await call(server, 'POST', '/api/v1/auth/reauth', { token: session, body: { password: 'wrong' } })).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
  });
});
