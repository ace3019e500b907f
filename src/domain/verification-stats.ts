// Per-minute verification counters kept in memory on this node (allowed, denied, who is denied):
// cheap enough for the hot path, bounded in minutes kept and in client IPs per minute.
import type { Clock } from '../clock.js';
import { VERIFICATION_OUTCOMES, type VerificationOutcome } from './verification-outcomes.js';

/**
 * Whom an attempt concerned: the key's tenant and credential when the key was known; else only
 * the domain of the user name given (so a tenant sees wrong passwords for its own mailboxes).
 */
export interface AttemptSubject {
  tenantId: string | null;
  credentialId: string | null;
  username?: string | null;
}

/** One minute's attempts of one outcome about one subject (credential, or user-name domain). */
export interface OutcomeCount {
  outcome: VerificationOutcome;
  tenantId: string;
  credentialId: string;
  domain: string;
  count: number;
}

/** One minute's refusals of one client address for one reason about one subject. */
export interface RefusalCount extends OutcomeCount {
  ip: string;
}

interface MinuteBucket {
  allowed: number;
  denied: number;
  deniedByIp: Map<string, number>;
  /** OutcomeCount keyed by outcome|tenant|credential|domain. */
  outcomes: Map<string, OutcomeCount>;
  /** RefusalCount keyed by outcome|tenant|credential|domain|ip. */
  refusals: Map<string, RefusalCount>;
}

/** Which attempts an analytics read covers: one tenant (its keys, and unknown keys tried on its domains), or one credential. */
export interface AnalyticsScope {
  tenantId: string;
  domains: readonly string[];
  credentialId?: string;
}

export interface VerificationAnalytics {
  from: string;
  to: string;
  outcomes: Record<VerificationOutcome, number>;
  series: { minute: string; valid: number; refused: number }[];
  top_refused_clients: { ip: string; refused: number; reasons: { outcome: VerificationOutcome; count: number }[] }[];
}

const DOMAIN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/** The user name's domain when it looks like one (never the local part: it may be a key pasted in the wrong field). */
function domainOf(username: string | null | undefined): string {
  const at = username?.lastIndexOf('@') ?? -1;
  if (!username || at < 0) return '';
  const domain = username.slice(at + 1).toLowerCase();
  return DOMAIN.test(domain) ? domain : '';
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
  outcomes: OutcomeCount[];
  refusals: RefusalCount[];
}

/** Where every node's counts meet (the database: storage/repositories/verification-stats.ts). */
export interface SharedStatsStore {
  /** Writes this node's totals for these minutes (replacing earlier ones) and drops minutes before `pruneBefore`. */
  save(nodeId: string, rows: MinuteCounts[], pruneBefore: string): Promise<void>;
  series(fromMinute: string, toMinute: string): Promise<{ minute: string; allowed: number; denied: number }[]>;
  topDenied(fromMinute: string, toMinute: string, limit: number): Promise<{ ip: string; denied: number }[]>;
  /** Attempts per minute and outcome within the scope, summed over nodes. */
  outcomeCounts(fromMinute: string, toMinute: string, scope: AnalyticsScope): Promise<{ minute: string; outcome: string; count: number }[]>;
  /** Refusals per client address and reason within the scope, most first (at most `limit` rows). */
  refusalCounts(fromMinute: string, toMinute: string, scope: AnalyticsScope, limit: number): Promise<{ ip: string; outcome: string; count: number }[]>;
}

export const STATS_MAX_MINUTES = 1440;
const MAX_IPS_PER_MINUTE = 1000;
/** Bounds what one minute keeps per subject, so a flood of random user names or addresses costs bounded memory. */
const MAX_SUBJECTS_PER_MINUTE = 2000;
const MAX_REFUSALS_PER_MINUTE = 2000;
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
      bucket = { allowed: 0, denied: 0, deniedByIp: new Map(), outcomes: new Map(), refusals: new Map() };
      this.buckets.set(minute, bucket);
      for (const key of this.buckets.keys()) {
        if (key > minute - STATS_MAX_MINUTES) break;
        this.buckets.delete(key);
      }
    }
    return bucket;
  }

  allowed(subject?: AttemptSubject): void {
    const bucket = this.bucket();
    bucket.allowed += 1;
    if (subject) this.count(bucket, 'valid', subject, null);
  }

  /** A refused attempt; `reason` and `subject` feed the per-tenant and per-credential analytics. */
  denied(ip: string | null | undefined, reason?: VerificationOutcome, subject?: AttemptSubject): void {
    const bucket = this.bucket();
    bucket.denied += 1;
    if (reason && subject) this.count(bucket, reason, subject, ip ?? null);
    if (!ip) return;
    const count = bucket.deniedByIp.get(ip);
    if (count !== undefined) bucket.deniedByIp.set(ip, count + 1);
    else if (bucket.deniedByIp.size < MAX_IPS_PER_MINUTE) bucket.deniedByIp.set(ip, 1);
  }

  private count(bucket: MinuteBucket, outcome: VerificationOutcome, subject: AttemptSubject, ip: string | null): void {
    const tenantId = subject.tenantId ?? '';
    const credentialId = subject.credentialId ?? '';
    const domain = tenantId ? '' : domainOf(subject.username);
    // Nothing to attribute it to: no tenant could ever ask for it.
    if (!tenantId && !domain) return;
    const key = `${outcome}|${tenantId}|${credentialId}|${domain}`;
    const counted = bucket.outcomes.get(key);
    if (counted) counted.count += 1;
    else if (bucket.outcomes.size < MAX_SUBJECTS_PER_MINUTE) bucket.outcomes.set(key, { outcome, tenantId, credentialId, domain, count: 1 });
    if (outcome === 'valid' || !ip) return;
    const refusalKey = `${key}|${ip}`;
    const refused = bucket.refusals.get(refusalKey);
    if (refused) refused.count += 1;
    else if (bucket.refusals.size < MAX_REFUSALS_PER_MINUTE) bucket.refusals.set(refusalKey, { outcome, tenantId, credentialId, domain, ip, count: 1 });
  }

  /** This node's totals of every minute counted in since the last call (for the shared store). */
  takeChanges(): MinuteCounts[] {
    const rows: MinuteCounts[] = [];
    for (const minute of this.changed) {
      const bucket = this.buckets.get(minute);
      if (bucket)
        rows.push({
          minute: new Date(minute * MINUTE_MS).toISOString(),
          allowed: bucket.allowed,
          denied: bucket.denied,
          deniedByIp: [...bucket.deniedByIp],
          outcomes: [...bucket.outcomes.values()].map((c) => ({ ...c })),
          refusals: [...bucket.refusals.values()].map((c) => ({ ...c })),
        });
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

  /** Outcomes of the last `minutes` minutes within one tenant or credential: per outcome, per minute, and the most refused clients with why. */
  async analytics(minutes: number, scope: AnalyticsScope, topClients = 10): Promise<VerificationAnalytics> {
    await this.flush();
    const current = Math.floor(this.clock.now().getTime() / MINUTE_MS);
    const from = new Date((current - minutes + 1) * MINUTE_MS).toISOString();
    const to = new Date(current * MINUTE_MS).toISOString();
    const outcomes = Object.fromEntries(VERIFICATION_OUTCOMES.map((o) => [o, 0])) as Record<VerificationOutcome, number>;
    const perMinute = new Map<string, { valid: number; refused: number }>();
    for (const row of await this.store.outcomeCounts(from, to, scope)) {
      if (!(VERIFICATION_OUTCOMES as readonly string[]).includes(row.outcome)) continue;
      outcomes[row.outcome as VerificationOutcome] += row.count;
      const point = perMinute.get(row.minute) ?? { valid: 0, refused: 0 };
      if (row.outcome === 'valid') point.valid += row.count;
      else point.refused += row.count;
      perMinute.set(row.minute, point);
    }
    const series: VerificationAnalytics['series'] = [];
    for (let minute = current - minutes + 1; minute <= current; minute += 1) {
      const iso = new Date(minute * MINUTE_MS).toISOString();
      series.push({ minute: iso, ...(perMinute.get(iso) ?? { valid: 0, refused: 0 }) });
    }
    const clients = new Map<string, { ip: string; refused: number; reasons: { outcome: VerificationOutcome; count: number }[] }>();
    for (const row of await this.store.refusalCounts(from, to, scope, 5000)) {
      const client = clients.get(row.ip) ?? { ip: row.ip, refused: 0, reasons: [] };
      client.refused += row.count;
      client.reasons.push({ outcome: row.outcome as VerificationOutcome, count: row.count });
      clients.set(row.ip, client);
    }
    const top = [...clients.values()]
      .sort((a, b) => b.refused - a.refused || a.ip.localeCompare(b.ip))
      .slice(0, topClients)
      .map((c) => ({ ...c, reasons: c.reasons.sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome)) }));
    return { from, to, outcomes, series, top_refused_clients: top };
  }
}
