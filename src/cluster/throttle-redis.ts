// Failed-login counters shared by every node through Redis (domain/throttle.ts has the rules):
// one sorted set of failure times per IP and per username, per tenant.
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import {
  DEFAULT_THROTTLE_POLICY,
  decide,
  type LoginThrottle,
  merged,
  NO_TENANT,
  normaliseUsername,
  scopeOf,
  suggestedDelay,
  type ThrottleDecision,
  type ThrottlePolicy,
} from '../domain/throttle.js';

/** Every node shares the counters: one sorted set of failure times per IP and per username. */
export class RedisThrottle implements LoginThrottle {
  private sequence = 0;

  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly prefix: string,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
  ) {}

  private keys(ip: string, username: string, tenant: string): [string, string] {
    return [`${this.prefix}:fail:ip:${tenant}:${ip}`, `${this.prefix}:fail:user:${tenant}:${normaliseUsername(username)}`];
  }

  async check(ip: string, username: string, scope?: string | null): Promise<ThrottleDecision> {
    const now = this.clock.now().getTime();
    const from = now - this.policy.windowMs;
    const tenant = scopeOf(scope);
    const [ipKey, userKey] = this.keys(ip, username, tenant);
    const [unknownIpKey] = this.keys(ip, username, NO_TENANT);
    const pipeline = this.redis.pipeline().zrange(ipKey, '0', '-1', 'WITHSCORES').zrange(userKey, '0', '-1', 'WITHSCORES');
    if (tenant !== NO_TENANT) pipeline.zrange(unknownIpKey, '0', '-1', 'WITHSCORES');
    const results = await pipeline.exec();
    const times = (index: number) => {
      const [error, value] = results?.[index] ?? [null, []];
      if (error) throw error;
      const flat = value as string[];
      const out: number[] = [];
      for (let i = 1; i < flat.length; i += 2) {
        const at = Number(flat[i]);
        if (at > from) out.push(at);
      }
      return out.sort((a, b) => a - b);
    };
    return decide(this.policy, now, tenant !== NO_TENANT ? merged(times(0), times(2)) : times(0), times(1));
  }

  async recordFailure(ip: string, username: string, scope?: string | null): Promise<number> {
    const now = this.clock.now().getTime();
    const from = now - this.policy.windowMs;
    const [ipKey, userKey] = this.keys(ip, username, scopeOf(scope));
    const member = `${now}:${process.pid}:${++this.sequence}`;
    const multi = this.redis.multi();
    for (const [key, limit] of [
      [ipKey, this.policy.ipLimit],
      [userKey, this.policy.usernameLimit],
    ] as const) {
      multi
        .zadd(key, now, member)
        .zremrangebyscore(key, '-inf', from)
        .zremrangebyrank(key, 0, -(limit + 2))
        .pexpire(key, this.policy.windowMs);
    }
    multi.zcard(ipKey);
    const results = await multi.exec();
    const last = results?.[results.length - 1];
    if (!last || last[0]) throw last?.[0] ?? new Error('redis transaction aborted');
    return suggestedDelay(this.policy, Number(last[1]));
  }

  async close(): Promise<void> {
    // The Redis connection belongs to the runtime, which closes it.
  }
}
