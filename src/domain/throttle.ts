// Failed-login throttling per client IP and per username in sliding windows, kept apart per
// tenant: failures with a tenant's keys count only against that tenant's logins, so one tenant
// (or an attacker holding its keys) can never throttle another tenant's users. Failures with
// keys that match no credential have no tenant; they count against their client IP everywhere.
// In the spirit of NIST SP 800-63B 5.2.2: slow clients down early, cap failures per window,
// and never lock an account permanently: every block ends when the window slides on, and a
// username under attack stays usable from a client that has not itself failed.
import type { LRUCache } from 'lru-cache';
import { boundedLru } from '../bounded-lru.js';
import type { Clock } from '../clock.js';

export interface ThrottlePolicy {
  /** Length of the sliding window (ms). */
  windowMs: number;
  /** Failures from one IP within the window after which that IP is refused until the window slides. */
  ipLimit: number;
  /** Failures for one username (from any IP) after which IPs that have failed are refused for it. */
  usernameLimit: number;
  /** Failures from one IP before the suggested delay starts doubling. */
  slowdownAfter: number;
  /** Largest suggested delay after a failure (seconds). */
  maxDelaySeconds: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  ipLimit: 20,
  usernameLimit: 10,
  slowdownAfter: 3,
  maxDelaySeconds: 30,
};

export interface ThrottleDecision {
  throttled: boolean;
  /** When throttled: seconds until the window lets this client try again. */
  retryAfterSeconds: number;
}

export interface LoginThrottle {
  /**
   * Is this client refused? `scope`: the tenant of the key presented (null: the key matched no
   * credential). A tenant's scope also sees the IP's failures with unknown keys. Wrappers must
   * pass the scope on: without it every tenant's failures would count together again.
   */
  check(ip: string, username: string, scope?: string | null): Promise<ThrottleDecision>;
  /** Counts a failure in the scope; returns the suggested delay (seconds) before the client's next try. */
  recordFailure(ip: string, username: string, scope?: string | null): Promise<number>;
  close(): Promise<void>;
}

export const normaliseUsername = (username: string) => username.trim().toLowerCase();

/** The scope of failures with keys that match no credential. */
export const NO_TENANT = '-';
export const scopeOf = (scope: string | null | undefined) => scope || NO_TENANT;

/** Two ascending lists -> one ascending list. */
export function merged(a: number[], b: number[]): number[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...a, ...b].sort((x, y) => x - y);
}

/** Failure timestamps (oldest first, already limited to the window) -> decision. Shared by both stores. */
export function decide(policy: ThrottlePolicy, now: number, ipFailures: number[], usernameFailures: number[]): ThrottleDecision {
  let until = 0;
  // The IP is refused until enough of its failures leave the window to drop below the limit.
  if (ipFailures.length >= policy.ipLimit) {
    until = Math.max(until, (ipFailures[ipFailures.length - policy.ipLimit] as number) + policy.windowMs);
  }
  // A hot username refuses only clients that have failed themselves: an attacker cannot
  // lock the real user out, and each attacking IP gets at most one guess per window.
  if (usernameFailures.length >= policy.usernameLimit && ipFailures.length > 0) {
    until = Math.max(until, (usernameFailures[usernameFailures.length - policy.usernameLimit] as number) + policy.windowMs);
  }
  if (until <= now) return { throttled: false, retryAfterSeconds: 0 };
  return { throttled: true, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
}

/** 1 s for the first few failures, then doubling up to the cap. */
export function suggestedDelay(policy: ThrottlePolicy, ipFailureCount: number): number {
  const over = ipFailureCount - policy.slowdownAfter;
  if (over <= 0) return 1;
  return Math.min(policy.maxDelaySeconds, 2 ** Math.min(over, 16));
}

/** One node: counters in memory, bounded in keys (the least recently used goes first) and in entries per key. */
export class MemoryThrottle implements LoginThrottle {
  // Least recently used goes first when full (bounded-lru.ts): an IP that keeps failing stays counted.
  private readonly failures: LRUCache<string, number[]>;
  private operations = 0;

  constructor(
    private readonly clock: Clock,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
    maxKeys = 200_000,
  ) {
    this.failures = boundedLru(maxKeys);
  }

  /** A key's failures inside the window (older ones pruned); `touch`: counts as a use for the LRU order. */
  private read(key: string, now: number, touch = true): number[] {
    const list = touch ? this.failures.get(key) : this.failures.peek(key);
    if (!list) return [];
    const from = now - this.policy.windowMs;
    let start = 0;
    while (start < list.length && (list[start] as number) <= from) start += 1;
    if (start === list.length) {
      this.failures.delete(key);
      return [];
    }
    if (start > 0) list.splice(0, start);
    return list;
  }

  async check(ip: string, username: string, scope?: string | null): Promise<ThrottleDecision> {
    const now = this.clock.now().getTime();
    const tenant = scopeOf(scope);
    let ipFailures = this.read(`ip:${tenant}:${ip}`, now);
    if (tenant !== NO_TENANT) ipFailures = merged(ipFailures, this.read(`ip:${NO_TENANT}:${ip}`, now));
    return decide(this.policy, now, ipFailures, this.read(`user:${tenant}:${normaliseUsername(username)}`, now));
  }

  async recordFailure(ip: string, username: string, scope?: string | null): Promise<number> {
    const now = this.clock.now().getTime();
    const tenant = scopeOf(scope);
    const ipCount = this.push(`ip:${tenant}:${ip}`, now, this.policy.ipLimit);
    this.push(`user:${tenant}:${normaliseUsername(username)}`, now, this.policy.usernameLimit);
    // Dropping keys whose window has passed keeps memory down while not full; every key is read
    // at most once per that many failures, so the sweep costs O(1) per failure.
    if (++this.operations >= Math.max(1024, this.failures.size)) {
      this.operations = 0;
      this.sweep(now);
    }
    return suggestedDelay(this.policy, ipCount);
  }

  private push(key: string, now: number, limit: number): number {
    const list = this.read(key, now);
    if (list.length === 0) this.failures.set(key, list);
    list.push(now);
    // Only the newest `limit` entries decide anything; the count beyond it is kept as a number.
    if (list.length > limit + 1) list.splice(0, list.length - limit - 1);
    return list.length;
  }

  private sweep(now: number): void {
    // A copy of the keys: reading may delete.
    for (const key of [...this.failures.keys()]) this.read(key, now, false);
  }

  async close(): Promise<void> {
    this.failures.clear();
  }
}
