// A small fixed-window rate limiter keyed by any string (token id, client IP, ...).
// In-process counters: each node limits on its own; the clock is injected so tests move time.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../bounded-lru.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';

export interface RateLimitRule {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

export type RateLimitDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

interface Window {
  startedAt: number;
  count: number;
}

export class RateLimiter {
  // Bounded: when full, the least recently seen key goes (bounded-lru.ts), so a client that keeps
  // calling keeps its window; a stale window is replaced when its key is next seen.
  private readonly windows: LRUCache<string, Window>;

  constructor(
    private readonly rule: RateLimitRule,
    private readonly clock: Clock,
    maxKeys = 100_000,
  ) {
    this.windows = boundedLru(maxKeys);
  }

  /** Counts one request for `key` and says whether it is within the limit. */
  hit(key: string): RateLimitDecision {
    const now = this.clock.now().getTime();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.rule.windowMs || now < window.startedAt) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.rule.limit) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + this.rule.windowMs - now) / 1000)) };
    }
    window.count += 1;
    return { allowed: true, remaining: this.rule.limit - window.count };
  }

  /** Like `hit`, but throws RATE_LIMITED (429 with Retry-After) when over the limit. */
  consume(key: string, what: string): void {
    const decision = this.hit(key);
    if (!decision.allowed) {
      throw new AppError('RATE_LIMITED', `Too many ${what}; retry in ${decision.retryAfterSeconds} seconds`, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
  }
}
