// The admin sign-in throttle with a manual clock: a few free failures, then doubling waits;
// a cap per client IP; an account under attack still lets its admin in from a clean client;
// addresses count as one whatever their spelling; nothing is locked for good.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AdminThrottle } from '../../src/domain/admin-throttle.js';

const policy = { windowMs: 15 * 60_000, freeFailures: 3, maxDelaySeconds: 60, ipLimit: 20 };

describe('admin sign-in throttle', () => {
  it('lets the first failures through, then makes each further one wait twice as long, up to the cap', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, policy);
    const attempt = { account: 'root@x.test', ip: '192.0.2.1' };
    for (let i = 0; i < 3; i += 1) {
      expect(throttle.check(attempt)).toBe(0);
      throttle.recordFailure(attempt);
    }
    // After the third failure no wait yet; the fourth failure costs 1 s, the fifth 2 s...
    expect(throttle.check(attempt)).toBe(0);
    throttle.recordFailure(attempt);
    expect(throttle.check(attempt)).toBe(1);
    clock.advance(1_000);
    expect(throttle.check(attempt)).toBe(0);
    throttle.recordFailure(attempt);
    expect(throttle.check(attempt)).toBe(2);
    for (let i = 0; i < 10; i += 1) {
      clock.advance(60_000);
      throttle.recordFailure(attempt);
    }
    expect(throttle.check(attempt)).toBe(60);
  });

  it('does not lock the real admin out: an account under attack refuses only clients that failed', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, policy);
    for (let i = 0; i < 10; i += 1) throttle.recordFailure({ account: 'root@x.test', ip: `198.51.100.${i}` });
    // An attacking IP that has failed waits for the account's delay...
    expect(throttle.check({ account: 'root@x.test', ip: '198.51.100.1' })).toBeGreaterThan(0);
    // ...the admin from a clean client goes straight to the password check.
    expect(throttle.check({ account: 'root@x.test', ip: '203.0.113.7' })).toBe(0);
    // And nothing is permanent: the window slides on.
    clock.advance(policy.windowMs + 1);
    expect(throttle.check({ account: 'root@x.test', ip: '198.51.100.1' })).toBe(0);
  });

  it('caps failures per client IP across accounts until the window slides', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, { ...policy, freeFailures: 1000 });
    for (let i = 0; i < policy.ipLimit; i += 1) throttle.recordFailure({ account: `user${i}@x.test`, ip: '192.0.2.9' });
    const wait = throttle.check({ account: 'someone@x.test', ip: '192.0.2.9' });
    expect(wait).toBeGreaterThan(14 * 60);
    expect(throttle.check({ account: 'someone@x.test', ip: '192.0.2.10' })).toBe(0);
  });

  it('counts an address once whatever its spelling (IPv4-mapped IPv6, case, spaces)', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, { ...policy, freeFailures: 1000, ipLimit: 4 });
    for (const spelling of ['192.0.2.44', '::ffff:192.0.2.44', ' 192.0.2.44 ', '::FFFF:c000:022c'])
      throttle.recordFailure({ account: 'a@x.test', ip: spelling });
    expect(throttle.check({ ip: '192.0.2.44' })).toBeGreaterThan(0);
    for (const spelling of ['2001:DB8::1', '2001:db8:0:0:0:0:0:1', '2001:db8::1', ' 2001:db8::0:1'])
      throttle.recordFailure({ account: 'b@x.test', ip: spelling });
    expect(throttle.check({ ip: '2001:db8::1' })).toBeGreaterThan(0);
  });

  it('throttles re-auth per session, and a success forgets the account and session failures', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, policy);
    const attempt = { account: 'root@x.test', ip: '192.0.2.1', session: 's-1' };
    for (let i = 0; i < 5; i += 1) throttle.recordFailure(attempt);
    expect(throttle.check({ session: 's-1' })).toBeGreaterThan(0);
    expect(throttle.check({ session: 's-2' })).toBe(0);
    throttle.recordSuccess(attempt);
    expect(throttle.check({ session: 's-1' })).toBe(0);
  });

  it('names the exact wait of an IP at its cap, and forgets a failure exactly one window later', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, { ...policy, freeFailures: 1000 });
    for (let i = 0; i < policy.ipLimit; i += 1) throttle.recordFailure({ account: `user${i}@x.test`, ip: '192.0.2.9' });
    expect(throttle.check({ ip: '192.0.2.9' })).toBe(15 * 60);
    clock.advance(15 * 60_000 - 1);
    expect(throttle.check({ ip: '192.0.2.9' })).toBe(1);
    clock.advance(1);
    expect(throttle.check({ ip: '192.0.2.9' })).toBe(0);
  });

  it('counts an account however its name is written, and forgets it on success', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, policy);
    for (const account of ['Admin@X.test', ' admin@x.test', 'ADMIN@x.test ', 'admin@x.test']) throttle.recordFailure({ account });
    expect(throttle.check({ account: 'admin@X.TEST' })).toBe(1);
    throttle.recordSuccess({ account: ' Admin@x.test' });
    expect(throttle.check({ account: 'admin@x.test' })).toBe(0);
  });

  it('an attempt that names nothing is never held back', () => {
    const throttle = new AdminThrottle(new ManualClock(), { ...policy, freeFailures: 0 });
    throttle.recordFailure({});
    expect(throttle.check({})).toBe(0);
    expect(throttle.check({ account: null, ip: null, session: null })).toBe(0);
  });

  it('an IP cap equal to the failures kept per key (128) still blocks', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, { ...policy, freeFailures: 1000, ipLimit: 128 });
    for (let i = 0; i < 130; i += 1) {
      throttle.recordFailure({ ip: '192.0.2.77' });
      clock.advance(1);
    }
    expect(throttle.check({ ip: '192.0.2.77' })).toBeGreaterThan(14 * 60);
  });

  it('when 100,000 keys are counted, a new one pushes out the oldest', () => {
    const clock = new ManualClock();
    const throttle = new AdminThrottle(clock, policy);
    for (let i = 0; i < 4; i += 1) throttle.recordFailure({ account: 'first@x.test' });
    expect(throttle.check({ account: 'first@x.test' })).toBe(1);
    for (let i = 1; i < 100_000; i += 1) throttle.recordFailure({ account: `a${i}` });
    // Exactly full: the oldest is still counted.
    expect(throttle.check({ account: 'first@x.test' })).toBe(1);
    throttle.recordFailure({ account: 'one-more' });
    expect(throttle.check({ account: 'first@x.test' })).toBe(0);
  });
});
