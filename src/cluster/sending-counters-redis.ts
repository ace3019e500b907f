// Quota counters in Redis: one hash per subject and window, kept a day past the window's end
// (the usage endpoint shows the last windows).
import type { Redis } from 'ioredis';
import { type CounterKey, type CounterValues, type SendingCounters, WINDOW_MS } from '../domain/sending-counters.js';

const FIELDS = ['messages', 'recipients', 'rejected', 'deferred'] as const;

export class RedisSendingCounters implements SendingCounters {
  readonly backend = 'redis';
  constructor(
    private readonly client: Redis,
    private readonly namespace: string,
  ) {}

  private key(key: CounterKey): string {
    return `${this.namespace}:sending:${key.subject}:${key.window}:${key.windowStart}`;
  }

  async add(keys: readonly CounterKey[], delta: Partial<CounterValues>): Promise<CounterValues[]> {
    const multi = this.client.multi();
    for (const key of keys) {
      const name = this.key(key);
      for (const field of FIELDS) multi.hincrby(name, field, delta[field] ?? 0);
      multi.pexpire(name, WINDOW_MS[key.window] + WINDOW_MS.day);
    }
    const results = (await multi.exec()) ?? [];
    const out: CounterValues[] = [];
    const step = FIELDS.length + 1;
    for (let i = 0; i < keys.length; i += 1) {
      const values = results.slice(i * step, i * step + FIELDS.length).map(([error, value]) => {
        if (error) throw error;
        return Number(value);
      });
      out.push({ messages: values[0] ?? 0, recipients: values[1] ?? 0, rejected: values[2] ?? 0, deferred: values[3] ?? 0 });
    }
    return out;
  }

  async read(keys: readonly CounterKey[]): Promise<CounterValues[]> {
    const multi = this.client.multi();
    for (const key of keys) multi.hmget(this.key(key), ...FIELDS);
    const results = (await multi.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      const v = (value as (string | null)[]).map((x) => Number(x ?? 0));
      return { messages: v[0] ?? 0, recipients: v[1] ?? 0, rejected: v[2] ?? 0, deferred: v[3] ?? 0 };
    });
  }
}
