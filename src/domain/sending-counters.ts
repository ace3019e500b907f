// Quota counters in fixed windows: the UTC clock hour and the UTC day a request falls in. A
// window starts empty; a burst just before and just after a boundary can send up to twice a
// limit within a few minutes (the price of counters that are one shared number per window).
// Shared by every node: Redis when configured (each window a hash with an expiry), the database
// otherwise (sending_counters) and whenever Redis fails.
import type { Clock } from '../clock.js';
import type { CounterKey, CounterValues } from '../storage/repositories/sending.js';
import type { Store } from '../storage/store.js';

export type { CounterKey, CounterValues };

export interface SendingCounters {
  readonly backend: string;
  /** Adds (negative to undo) and returns the values after the change, one per key. */
  add(keys: readonly CounterKey[], delta: Partial<CounterValues>): Promise<CounterValues[]>;
  read(keys: readonly CounterKey[]): Promise<CounterValues[]>;
}

export const WINDOW_MS = { hour: 3_600_000, day: 86_400_000 } as const;

/** The key of the fixed window `at` falls in. */
export function windowKey(subject: string, tenantId: string, window: 'hour' | 'day', at: Date): CounterKey {
  const start = Math.floor(at.getTime() / WINDOW_MS[window]) * WINDOW_MS[window];
  return { subject, tenantId, window, windowStart: new Date(start).toISOString() };
}

export class DatabaseSendingCounters implements SendingCounters {
  readonly backend = 'database';
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private pending: { keys: readonly CounterKey[]; delta: Partial<CounterValues>; resolve(values: CounterValues[]): void; reject(error: unknown): void }[] = [];

  /**
   * The additions asked for in one event-loop turn share one transaction (one commit for many
   * decisions under load); each still gets the values right after its own change, in order.
   */
  add(keys: readonly CounterKey[], delta: Partial<CounterValues>): Promise<CounterValues[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ keys, delta, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const at = this.clock.now().toISOString();
    try {
      const results = await this.store.addSendingCounters(batch, at);
      for (const [i, item] of batch.entries()) item.resolve(results[i] as CounterValues[]);
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  read(keys: readonly CounterKey[]): Promise<CounterValues[]> {
    return this.store.sending.read(keys);
  }
}

/** Redis first; the database when a Redis command fails (counted). Both are shared by every node. */
export class FallbackSendingCounters implements SendingCounters {
  readonly backend = 'redis';
  fallbacks = 0;
  constructor(
    private readonly primary: SendingCounters,
    private readonly fallback: SendingCounters,
  ) {}

  async add(keys: readonly CounterKey[], delta: Partial<CounterValues>): Promise<CounterValues[]> {
    try {
      return await this.primary.add(keys, delta);
    } catch {
      this.fallbacks += 1;
      return this.fallback.add(keys, delta);
    }
  }

  async read(keys: readonly CounterKey[]): Promise<CounterValues[]> {
    try {
      return await this.primary.read(keys);
    } catch {
      this.fallbacks += 1;
      return this.fallback.read(keys);
    }
  }
}
