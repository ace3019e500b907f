// Auto-hold on abuse (issue 25 point 4, per tenant, off by default): the sending policy asks this
// module, at each recipient, whether the identity now looks like a leaked key at work:
// - past a multiple of a quota: attempts in a window (what was sent plus what was deferred over
//   quota) above `quotaMultiple` x the limit (messages per hour, per day, recipients per day).
//   Quotas alone only slow a spammer down; a client that keeps pushing at several times its
//   quota is not a legitimate client that hit a busy hour.
// - new countries: more countries it had not been seen in before, first seen within the last
//   hour, than `maxNewCountriesPerHour`. "Seen" is its sessions (every login records the client's
//   country, shared by every node) and the client addresses this node's policy has seen.
import { HOUR } from '../clock.js';
import type { Repositories } from '../storage/store.js';
import { countryCodeOf } from './country-lookup.js';
import type { CounterValues } from './sending-counters.js';
import { type AutoHoldSettings, DEFAULT_AUTO_HOLD, type SendingLimits, type Tenant } from './types.js';

/** Why a credential was held: goes into the audit event's details (and the webhook's `reason` stays `abuse_suspected`). */
export type AbuseTrigger =
  | { trigger: 'quota_multiple'; quota: 'messages_per_hour' | 'messages_per_day' | 'recipients_per_day'; limit: number; attempts: number; multiple: number }
  | { trigger: 'new_countries'; new_countries: number; allowed: number };

export function autoHoldOf(tenant: Tenant): AutoHoldSettings {
  return { ...DEFAULT_AUTO_HOLD, ...tenant.settings.autoHold };
}

/** Past `multiple` x a quota in the windows' counters (read after this attempt was counted)? */
export function quotaAbuse(
  limits: SendingLimits,
  settings: AutoHoldSettings,
  hour: CounterValues | undefined,
  day: CounterValues | undefined,
): AbuseTrigger | null {
  const checks = [
    { quota: 'messages_per_hour', limit: limits.messagesPerHour, attempts: (hour?.messages ?? 0) + (hour?.deferred ?? 0) },
    { quota: 'messages_per_day', limit: limits.messagesPerDay, attempts: (day?.messages ?? 0) + (day?.deferred ?? 0) },
    { quota: 'recipients_per_day', limit: limits.recipientsPerDay, attempts: (day?.recipients ?? 0) + (day?.deferred ?? 0) },
  ] as const;
  for (const check of checks) {
    if (check.limit === undefined) continue;
    if (check.attempts > settings.quotaMultiple * check.limit) {
      return { trigger: 'quota_multiple', quota: check.quota, limit: check.limit, attempts: check.attempts, multiple: settings.quotaMultiple };
    }
  }
  return null;
}

const MAX_SUBJECTS = 10_000;

/** Countries per subject: first seen (ms), from its sessions (cached briefly) and this node's policy requests. */
export class CountryWatch {
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly stored = new Map<string, { countries: Map<string, number>; at: number }>();

  constructor(
    private readonly repositories: Repositories,
    private readonly cacheMs = 5_000,
  ) {}

  /** Too many new countries within the hour, counting the client's now? */
  async check(
    subject: { key: string; tenantId: string; credentials: { id: string }[] },
    clientAddress: string | null,
    nowMs: number,
    allowed: number,
  ): Promise<AbuseTrigger | null> {
    const country = clientAddress ? countryCodeOf(clientAddress) : '';
    if (!country) return null; // private, loopback or unknown addresses tell nothing
    if (this.seen.size >= MAX_SUBJECTS) this.seen.clear();
    const seen = this.seen.get(subject.key) ?? new Map<string, number>();
    this.seen.set(subject.key, seen);
    if (!seen.has(country)) seen.set(country, nowMs);
    const hourAgo = nowMs - HOUR;
    const stored = await this.storedCountries(subject, nowMs);
    const firstSeen = (code: string) => Math.min(seen.get(code) ?? Number.POSITIVE_INFINITY, stored.get(code) ?? Number.POSITIVE_INFINITY);
    // A country it was known in before the hour: nothing new here (the usual case, no counting).
    if (firstSeen(country) < hourAgo) return null;
    const fresh = [...new Set([...seen.keys(), ...stored.keys()])].filter((code) => firstSeen(code) >= hourAgo);
    return fresh.length > allowed ? { trigger: 'new_countries', new_countries: fresh.length, allowed } : null;
  }

  private async storedCountries(subject: { key: string; tenantId: string; credentials: { id: string }[] }, nowMs: number): Promise<Map<string, number>> {
    const cached = this.stored.get(subject.key);
    if (cached && nowMs - cached.at >= 0 && nowMs - cached.at < this.cacheMs) return cached.countries;
    const rows = await this.repositories.sending.sessionCountries(
      subject.tenantId,
      subject.credentials.map((c) => c.id),
    );
    const countries = new Map(rows.map((r) => [r.country, Date.parse(r.firstSeenAt)]));
    if (this.stored.size >= MAX_SUBJECTS) this.stored.clear();
    this.stored.set(subject.key, { countries, at: nowMs });
    return countries;
  }
}
