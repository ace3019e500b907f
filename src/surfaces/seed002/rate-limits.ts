// The stricter limits of the seed 002 endpoints, per bearer token and per client IP.
// Issuing a key (create, rotate, mobile) has its own, lower budget on top of the general one.
import type { Clock } from '../../clock.js';
import { MINUTE } from '../../clock.js';
import { RateLimiter } from '../rate-limit.js';

export const SEED002_LIMITS = {
  requestsPerTokenPerMinute: 60,
  requestsPerIpPerMinute: 120,
  issuesPerTokenPerMinute: 10,
  issuesPerIpPerMinute: 30,
} as const;

export class Seed002Limits {
  private readonly requestsPerToken: RateLimiter;
  private readonly requestsPerIp: RateLimiter;
  private readonly issuesPerToken: RateLimiter;
  private readonly issuesPerIp: RateLimiter;

  constructor(clock: Clock) {
    this.requestsPerToken = new RateLimiter({ limit: SEED002_LIMITS.requestsPerTokenPerMinute, windowMs: MINUTE }, clock);
    this.requestsPerIp = new RateLimiter({ limit: SEED002_LIMITS.requestsPerIpPerMinute, windowMs: MINUTE }, clock);
    this.issuesPerToken = new RateLimiter({ limit: SEED002_LIMITS.issuesPerTokenPerMinute, windowMs: MINUTE }, clock);
    this.issuesPerIp = new RateLimiter({ limit: SEED002_LIMITS.issuesPerIpPerMinute, windowMs: MINUTE }, clock);
  }

  /** Before authentication: unauthenticated attempts count against the client IP too. */
  checkIp(ip: string, issuesKey: boolean): void {
    this.requestsPerIp.consume(ip, 'requests from this address');
    if (issuesKey) this.issuesPerIp.consume(ip, 'key creations from this address');
  }

  checkToken(tokenId: string, issuesKey: boolean): void {
    this.requestsPerToken.consume(tokenId, 'requests with this token');
    if (issuesKey) this.issuesPerToken.consume(tokenId, 'key creations with this token');
  }
}
