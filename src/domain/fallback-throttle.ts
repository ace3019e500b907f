// A shared throttle store (Redis) with this node's own counters behind it: every failure is
// counted here too, and when the shared store fails or is slow the local counters decide, so a
// vanished Redis never stalls a login nor lifts throttling on this node.
import type { LoginThrottle, ThrottleDecision } from './throttle.js';

export class FallbackThrottle implements LoginThrottle {
  constructor(
    private readonly shared: LoginThrottle,
    private readonly local: LoginThrottle,
    /** The shared store failed (it is retried on every call; the caller limits the logging). */
    private readonly onSharedError: (error: unknown) => void,
  ) {}

  async check(ip: string, username: string, scope: string | null = null): Promise<ThrottleDecision> {
    try {
      return await this.shared.check(ip, username, scope);
    } catch (error) {
      this.onSharedError(error);
      return this.local.check(ip, username, scope);
    }
  }

  async recordFailure(ip: string, username: string, scope: string | null = null): Promise<number> {
    const local = await this.local.recordFailure(ip, username, scope);
    try {
      return Math.max(local, await this.shared.recordFailure(ip, username, scope));
    } catch (error) {
      this.onSharedError(error);
      return local;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.shared.close(), this.local.close()]);
  }
}
