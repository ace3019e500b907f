// The fixed-window limiter behind the seed 002 limits, and the small domain rules the seeds use.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { generatePublicKey } from '../../src/domain/credentials.js';
import { scopesForKind } from '../../src/domain/scopes.js';
import { AppError } from '../../src/errors.js';
import { RateLimiter } from '../../src/surfaces/rate-limit.js';

describe('RateLimiter', () => {
  it('allows `limit` hits per window and key, then answers with the seconds left', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ limit: 3, windowMs: 60_000 }, clock);
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')].map((d) => d.allowed)).toEqual([true, true, true]);
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.hit('b').allowed).toBe(true);
    clock.advance(45_500);
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 15 });
    clock.advance(14_500);
    expect(limiter.hit('a')).toEqual({ allowed: true, remaining: 2 });
  });

  it('consume throws RATE_LIMITED with Retry-After seconds', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 10_000 }, new ManualClock());
    limiter.consume('k', 'things');
    try {
      limiter.consume('k', 'things');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(429);
      expect((error as AppError).retryAfterSeconds).toBe(10);
    }
  });

  it('stays bounded in memory: the least recently seen key goes first', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, clock, 3);
    for (const key of ['a', 'b', 'c']) limiter.hit(key);
    limiter.hit('d'); // evicts 'a'
    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('c').allowed).toBe(false);
    clock.advance(1000);
    for (const key of ['e', 'f', 'g']) expect(limiter.hit(key).allowed).toBe(true);
  });

  it('keeps the window of a client that keeps calling while new keys push others out', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000 }, new ManualClock(), 3);
    for (const key of ['hammer', 'b', 'c']) limiter.hit(key);
    expect(limiter.hit('hammer').allowed).toBe(false); // over its limit, and just seen
    limiter.hit('d'); // full: 'b' goes, not the first key inserted
    expect(limiter.hit('hammer').allowed).toBe(false);
    expect(limiter.hit('b').allowed).toBe(true);
  });
});

describe('seed domain rules', () => {
  it('credential kinds map to scopes: SMTP sends mail, API uses the REST API only', () => {
    expect(scopesForKind('SMTP')).toEqual(['smtp']);
    expect(scopesForKind('API')).toEqual(['api:read', 'api:write']);
  });

  it('seed 003 public Keys are rkk_ plus 32 base62 characters and never repeat', () => {
    const keys = new Set(Array.from({ length: 200 }, generatePublicKey));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^rkk_[0-9A-Za-z]{32}$/);
  });
});
