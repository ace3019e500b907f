// Per-minute verification counters kept in memory on this node (allowed, denied, who is denied):
// cheap enough for the hot path, bounded in minutes kept and in client IPs per minute.
import type { Clock } from '../clock.js';

interface MinuteBucket {
  allowed: number;
  denied: number;
  deniedByIp: Map<string, number>;
}

export interface VerificationSeries {
  series: { minute: string; allowed: number; denied: number }[];
  top_denied_clients: { ip: string; denied: number }[];
}

export const STATS_MAX_MINUTES = 1440;
const MAX_IPS_PER_MINUTE = 1000;
const MINUTE_MS = 60_000;

export class VerificationStats {
  private readonly buckets = new Map<number, MinuteBucket>();

  constructor(private readonly clock: Clock) {}

  private bucket(): MinuteBucket {
    const minute = Math.floor(this.clock.now().getTime() / MINUTE_MS);
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = { allowed: 0, denied: 0, deniedByIp: new Map() };
      this.buckets.set(minute, bucket);
      for (const key of this.buckets.keys()) {
        if (key > minute - STATS_MAX_MINUTES) break;
        this.buckets.delete(key);
      }
    }
    return bucket;
  }

  allowed(): void {
    this.bucket().allowed += 1;
  }

  denied(ip: string | null | undefined): void {
    const bucket = this.bucket();
    bucket.denied += 1;
    if (!ip) return;
    const count = bucket.deniedByIp.get(ip);
    if (count !== undefined) bucket.deniedByIp.set(ip, count + 1);
    else if (bucket.deniedByIp.size < MAX_IPS_PER_MINUTE) bucket.deniedByIp.set(ip, 1);
  }

  /** The last `minutes` minutes, oldest first, zero-filled; the ten most denied client IPs among them. */
  series(minutes: number, topClients = 10): VerificationSeries {
    const current = Math.floor(this.clock.now().getTime() / MINUTE_MS);
    const series: VerificationSeries['series'] = [];
    const deniedByIp = new Map<string, number>();
    for (let minute = current - minutes + 1; minute <= current; minute += 1) {
      const bucket = this.buckets.get(minute);
      series.push({ minute: new Date(minute * MINUTE_MS).toISOString(), allowed: bucket?.allowed ?? 0, denied: bucket?.denied ?? 0 });
      for (const [ip, count] of bucket?.deniedByIp ?? []) deniedByIp.set(ip, (deniedByIp.get(ip) ?? 0) + count);
    }
    const top = [...deniedByIp]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, topClients)
      .map(([ip, denied]) => ({ ip, denied }));
    return { series, top_denied_clients: top };
  }
}
