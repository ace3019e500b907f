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

/** One minute's counts of one node, as shared with the other nodes (running totals). */
export interface MinuteCounts {
  minute: string;
  allowed: number;
  denied: number;
  deniedByIp: [string, number][];
}

/** Where every node's counts meet (the database: storage/repositories/verification-stats.ts). */
export interface SharedStatsStore {
  /** Writes this node's totals for these minutes (replacing earlier ones) and drops minutes before `pruneBefore`. */
  save(nodeId: string, rows: MinuteCounts[], pruneBefore: string): Promise<void>;
  series(fromMinute: string, toMinute: string): Promise<{ minute: string; allowed: number; denied: number }[]>;
  topDenied(fromMinute: string, toMinute: string, limit: number): Promise<{ ip: string; denied: number }[]>;
}

export const STATS_MAX_MINUTES = 1440;
const MAX_IPS_PER_MINUTE = 1000;
const MINUTE_MS = 60_000;

export class VerificationStats {
  private readonly buckets = new Map<number, MinuteBucket>();
  /** Minutes counted since the last takeChanges(). */
  private readonly changed = new Set<number>();

  constructor(private readonly clock: Clock) {}

  private bucket(): MinuteBucket {
    const minute = Math.floor(this.clock.now().getTime() / MINUTE_MS);
    this.changed.add(minute);
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

  /** This node's totals of every minute counted in since the last call (for the shared store). */
  takeChanges(): MinuteCounts[] {
    const rows: MinuteCounts[] = [];
    for (const minute of this.changed) {
      const bucket = this.buckets.get(minute);
      if (bucket)
        rows.push({ minute: new Date(minute * MINUTE_MS).toISOString(), allowed: bucket.allowed, denied: bucket.denied, deniedByIp: [...bucket.deniedByIp] });
    }
    this.changed.clear();
    return rows;
  }

  /** Puts minutes back whose save failed, so the next flush writes them again. */
  restoreChanges(rows: MinuteCounts[]): void {
    for (const row of rows) this.changed.add(Math.floor(Date.parse(row.minute) / MINUTE_MS));
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

/**
 * The stats every node contributes to: each node writes its counts to the shared store every few
 * seconds (and before it answers a stats read), and reads sum over all nodes.
 */
export class SharedVerificationStats {
  constructor(
    private readonly local: VerificationStats,
    private readonly store: SharedStatsStore,
    private readonly nodeId: string,
    private readonly clock: Clock,
  ) {}

  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** Flushes every `intervalMs` until stopSharing(); `onError` hears failed flushes (the counts are kept and sent later). */
  startSharing(intervalMs: number, onError: (error: unknown) => void): void {
    this.stopSharing();
    this.timer = setInterval(() => {
      this.flush().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stopSharing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async flush(): Promise<void> {
    // One flush at a time; a caller arriving meanwhile waits for it, then flushes what came after.
    while (this.flushing) await this.flushing.catch(() => undefined);
    const rows = this.local.takeChanges();
    if (rows.length === 0) return;
    const pruneBefore = new Date(this.clock.now().getTime() - STATS_MAX_MINUTES * MINUTE_MS).toISOString();
    this.flushing = this.store.save(this.nodeId, rows, pruneBefore).catch((error: unknown) => {
      this.local.restoreChanges(rows);
      throw error;
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  async series(minutes: number, topClients = 10): Promise<VerificationSeries> {
    await this.flush();
    const current = Math.floor(this.clock.now().getTime() / MINUTE_MS);
    const from = new Date((current - minutes + 1) * MINUTE_MS).toISOString();
    const to = new Date(current * MINUTE_MS).toISOString();
    const counted = new Map((await this.store.series(from, to)).map((row) => [row.minute, row]));
    const series: VerificationSeries['series'] = [];
    for (let minute = current - minutes + 1; minute <= current; minute += 1) {
      const iso = new Date(minute * MINUTE_MS).toISOString();
      const row = counted.get(iso);
      series.push({ minute: iso, allowed: row?.allowed ?? 0, denied: row?.denied ?? 0 });
    }
    return { series, top_denied_clients: await this.store.topDenied(from, to, topClients) };
  }
}
