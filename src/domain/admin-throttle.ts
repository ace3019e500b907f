// Admin sign-in and re-auth throttling, in the spirit of NIST SP 800-63B 5.2.2: a few free
// failures, then waits that double with each further failure (429 with Retry-After), a cap
// per client IP and window, and no permanent lockout. Counters are kept per account, per client
// IP and per admin session (re-auth). An account under attack refuses only clients that have
// failed themselves within the window: the real admin, from a client that has not, still signs in.
import type { Clock } from '../clock.js';
import { canonicalIp } from './network.js';

export interface AdminThrottlePolicy {
  /** Failures are remembered this long (ms). */
  windowMs: number;
  /** Failures of a key before waits begin. */
  freeFailures: number;
  /** The longest wait after one failure (seconds). */
  maxDelaySeconds: number;
  /** Failures from one client IP within the window after which it waits for the window to slide. */
  ipLimit: number;
}

export const DEFAULT_ADMIN_THROTTLE: AdminThrottlePolicy = { windowMs: 15 * 60_000, freeFailures: 3, maxDelaySeconds: 60, ipLimit: 100 };

export interface AttemptKeys {
  account?: string | null;
  ip?: string | null;
  session?: string | null;
}

const MAX_KEYS = 100_000;
const MAX_PER_KEY = 128;

export class AdminThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    readonly policy: AdminThrottlePolicy = DEFAULT_ADMIN_THROTTLE,
  ) {}

  private keysOf(attempt: AttemptKeys): { account?: string; ip?: string; session?: string } {
    return {
      ...(attempt.account ? { account: `account:${attempt.account.trim().toLowerCase()}` } : {}),
      ...(attempt.ip ? { ip: `ip:${canonicalIp(attempt.ip)}` } : {}),
      ...(attempt.session ? { session: `session:${attempt.session}` } : {}),
    };
  }

  private recent(key: string | undefined, now: number): number[] {
    if (!key) return [];
    const list = this.failures.get(key);
    if (!list) return [];
    while (list.length > 0 && (list[0] as number) <= now - this.policy.windowMs) list.shift();
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  /** The wait (ms from now) that `failures` impose: a doubling delay after the free ones. */
  private waitFor(failures: number[], now: number): number {
    const over = failures.length - this.policy.freeFailures;
    if (over <= 0) return 0;
    const delayMs = Math.min(this.policy.maxDelaySeconds, 2 ** Math.min(over - 1, 20)) * 1000;
    return Math.max(0, (failures[failures.length - 1] as number) + delayMs - now);
  }

  /** Seconds the caller must wait before this attempt is even checked; 0 when it may go on. */
  check(attempt: AttemptKeys): number {
    const now = this.clock.now().getTime();
    const keys = this.keysOf(attempt);
    const ip = this.recent(keys.ip, now);
    let waitMs = this.waitFor(ip, now);
    if (ip.length >= this.policy.ipLimit) waitMs = Math.max(waitMs, (ip[ip.length - this.policy.ipLimit] as number) + this.policy.windowMs - now);
    // An account's waits bind only clients that have failed themselves (no lockout of the real admin).
    if (ip.length > 0 || !keys.ip) waitMs = Math.max(waitMs, this.waitFor(this.recent(keys.account, now), now));
    waitMs = Math.max(waitMs, this.waitFor(this.recent(keys.session, now), now));
    return waitMs <= 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000));
  }

  recordFailure(attempt: AttemptKeys): void {
    const now = this.clock.now().getTime();
    for (const key of Object.values(this.keysOf(attempt))) {
      const list = this.recent(key, now);
      if (list.length === 0) {
        if (this.failures.size >= MAX_KEYS) {
          const oldest = this.failures.keys().next().value;
          if (oldest !== undefined) this.failures.delete(oldest);
        }
        this.failures.set(key, list);
      }
      list.push(now);
      if (list.length > MAX_PER_KEY) list.shift();
    }
  }

  /** A success forgets the account's and the session's failures (not the client IP's). */
  recordSuccess(attempt: AttemptKeys): void {
    const keys = this.keysOf(attempt);
    if (keys.account) this.failures.delete(keys.account);
    if (keys.session) this.failures.delete(keys.session);
  }
}
