// The in-memory login throttle holds a bounded number of keys (one per client IP and one per
// username). When full, the least recently used key goes: an attacking IP that keeps failing
// stays counted while a stream of one-off usernames and IPs passes through, and memory stays
// bounded. Dropping the oldest key instead would forget the attacker first.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { MemoryThrottle, type ThrottlePolicy } from '../../src/domain/throttle.js';

const policy: ThrottlePolicy = { windowMs: 60_000, ipLimit: 5, usernameLimit: 1_000, slowdownAfter: 3, maxDelaySeconds: 30 };

describe('memory throttle bound', () => {
  it('keeps counting the client in steady use while one-off keys come and go', async () => {
    const clock = new ManualClock(new Date('2026-11-29T12:00:00Z'));
    const throttle = new MemoryThrottle(clock, policy, 6);
    for (let i = 0; i < 5; i += 1) {
      // The attacker fails once per round; between its tries, other clients fail once each.
      expect((await throttle.check('198.51.100.7', 'victim@example.test')).throttled).toBe(false);
      await throttle.recordFailure('198.51.100.7', 'victim@example.test');
      for (let j = 0; j < 2; j += 1) await throttle.recordFailure(`203.0.113.${i * 2 + j}`, `passer${i * 2 + j}@example.test`);
      clock.advance(1_000);
    }
    expect(await throttle.check('198.51.100.7', 'victim@example.test')).toMatchObject({ throttled: true });
  });
});
