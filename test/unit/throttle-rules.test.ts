// The login throttle's rules as pure functions and on the in-memory store, with the injected
// clock: the slow-down curve, when a block ends and the Retry-After it names, username
// normalisation, tenant scoping (failures with unknown keys count in every tenant), and that old
// failures leave the window exactly when it slides past them.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { decide, MemoryThrottle, merged, NO_TENANT, normaliseUsername, scopeOf, suggestedDelay, type ThrottlePolicy } from '../../src/domain/throttle.js';

const policy: ThrottlePolicy = { windowMs: 60_000, ipLimit: 3, usernameLimit: 2, slowdownAfter: 2, maxDelaySeconds: 30 };
const start = new Date('2026-12-03T08:00:00Z');

describe('throttle rules', () => {
  it('slows down by 1 s, then doubling from the failure after slowdownAfter, up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((count) => suggestedDelay(policy, count))).toEqual([1, 1, 1, 2, 4, 8, 16, 30]);
    expect(suggestedDelay({ ...policy, maxDelaySeconds: 100_000 }, 40)).toBe(65_536);
  });

  it('blocks an IP at its limit until its oldest counted failure leaves the window, and names the wait', () => {
    const now = 1_000_000;
    expect(decide(policy, now, [now - 10_000, now - 5_000], [])).toEqual({ throttled: false, retryAfterSeconds: 0 });
    expect(decide(policy, now, [now - 50_000, now - 10_000, now - 5_000], [])).toEqual({ throttled: true, retryAfterSeconds: 10 });
    // 10.5 s left is named 11 s; a block ending within the second is still 1 s.
    expect(decide(policy, now, [now - 49_500, now - 1, now], []).retryAfterSeconds).toBe(11);
    expect(decide(policy, now, [now - 59_999, now - 1, now], []).retryAfterSeconds).toBe(1);
    // The block ends exactly when the window has slid past the failure.
    expect(decide(policy, now, [now - 60_000, now - 1, now], []).throttled).toBe(false);
  });

  it('a username at its limit refuses only an IP that has failed itself', () => {
    const now = 1_000_000;
    const hot = [now - 30_000, now - 20_000];
    expect(decide(policy, now, [], hot).throttled).toBe(false);
    expect(decide(policy, now, [now - 1_000], hot)).toEqual({ throttled: true, retryAfterSeconds: 30 });
    expect(decide(policy, now, [now - 1_000], hot.slice(1)).throttled).toBe(false);
  });

  it('normalises usernames and scopes', () => {
    expect(normaliseUsername('  Alice@Example.TEST ')).toBe('alice@example.test');
    expect(scopeOf('tenant-a')).toBe('tenant-a');
    expect(scopeOf(null)).toBe(NO_TENANT);
    expect(scopeOf('')).toBe(NO_TENANT);
    expect(merged([1, 5], [2, 3])).toEqual([1, 2, 3, 5]);
  });
});

describe('the in-memory throttle', () => {
  it('counts a username however it is written, and returns the growing delay', async () => {
    const clock = new ManualClock(start);
    const throttle = new MemoryThrottle(clock, { ...policy, ipLimit: 100, usernameLimit: 100 });
    const delays = [];
    for (const name of ['Bob@Example.test', ' bob@example.test', 'BOB@EXAMPLE.TEST ', 'bob@example.test'])
      delays.push(await throttle.recordFailure('192.0.2.1', name, 't1'));
    expect(delays).toEqual([1, 1, 2, 4]);
    const username = new MemoryThrottle(clock, { ...policy, ipLimit: 100 });
    await username.recordFailure('192.0.2.2', 'Carol@example.test', 't1');
    await username.recordFailure('192.0.2.2', ' carol@EXAMPLE.test', 't1');
    expect((await username.check('192.0.2.2', 'CAROL@example.test ', 't1')).throttled).toBe(true);
  });

  it("keeps tenants apart, and counts unknown keys' failures in every tenant", async () => {
    const clock = new ManualClock(start);
    const throttle = new MemoryThrottle(clock, policy);
    for (let i = 0; i < 3; i += 1) await throttle.recordFailure('192.0.2.9', `u${i}@a.test`, 'tenant-a');
    expect((await throttle.check('192.0.2.9', 'x@a.test', 'tenant-a')).throttled).toBe(true);
    expect((await throttle.check('192.0.2.9', 'x@b.test', 'tenant-b')).throttled).toBe(false);
    expect((await throttle.check('192.0.2.9', 'x@b.test', null)).throttled).toBe(false);
    // Two failures with unknown keys and one in tenant b: blocked in b, not in c (one short).
    await throttle.recordFailure('192.0.2.9', 'n1@x.test', null);
    await throttle.recordFailure('192.0.2.9', 'n2@x.test', undefined);
    expect((await throttle.check('192.0.2.9', 'x@c.test', 'tenant-c')).throttled).toBe(false);
    await throttle.recordFailure('192.0.2.9', 'y@b.test', 'tenant-b');
    expect((await throttle.check('192.0.2.9', 'x@b.test', 'tenant-b')).throttled).toBe(true);
    expect((await throttle.check('192.0.2.9', 'x@c.test', 'tenant-c')).throttled).toBe(false);
  });

  it('forgets failures exactly when the window slides past them, and counts again from zero', async () => {
    const clock = new ManualClock(start);
    const throttle = new MemoryThrottle(clock, policy);
    await throttle.recordFailure('192.0.2.3', 'a@t.test', 't');
    clock.advance(20_000);
    await throttle.recordFailure('192.0.2.3', 'b@t.test', 't');
    await throttle.recordFailure('192.0.2.3', 'c@t.test', 't');
    expect(await throttle.check('192.0.2.3', 'd@t.test', 't')).toEqual({ throttled: true, retryAfterSeconds: 40 });
    clock.advance(39_999);
    expect((await throttle.check('192.0.2.3', 'd@t.test', 't')).throttled).toBe(true);
    clock.advance(1);
    expect(await throttle.check('192.0.2.3', 'd@t.test', 't')).toEqual({ throttled: false, retryAfterSeconds: 0 });
    // Two failures are left in the window: the next one is the third (delay 2), and blocks again.
    expect(await throttle.recordFailure('192.0.2.3', 'e@t.test', 't')).toBe(2);
    expect((await throttle.check('192.0.2.3', 'e@t.test', 't')).throttled).toBe(true);
    clock.advance(60_000);
    // All gone: the count starts again at one.
    expect(await throttle.recordFailure('192.0.2.3', 'f@t.test', 't')).toBe(1);
  });

  it('keeps counting past the limit (the delay grows) while storing only what decides', async () => {
    const clock = new ManualClock(start);
    const throttle = new MemoryThrottle(clock, { ...policy, ipLimit: 3, maxDelaySeconds: 1_000 });
    const delays = [];
    for (let i = 0; i < 8; i += 1) delays.push(await throttle.recordFailure('192.0.2.4', `u${i}@t.test`, 't'));
    // limit + 1 failures are kept: the delay stops growing at the count limit + 1 (4 -> 4 s).
    expect(delays).toEqual([1, 1, 2, 4, 4, 4, 4, 4]);
  });
});
