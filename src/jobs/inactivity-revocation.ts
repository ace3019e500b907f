// inactivity-revocation: a credential unused for its tenant's (or its role's) inactivity period
// (90 days unless configured; last use, or creation if never used) is revoked with reason
// `inactivity`; a `credential.inactivity_warning` goes out once, 7 days before. The rule is seed
// 003's ("revoked after 90 days of inactivity"): it covers seed 003 keys always, native
// credentials only in a tenant whose settings name a period, and never seed 001/002 keys.
import { DAY } from '../clock.js';
import { announceCredentialChange, recordEvent } from '../domain/context.js';
import type { Role } from '../domain/scopes.js';
import { type Surface, SYSTEM_ACTOR, type TenantSettings } from '../domain/types.js';
import { yieldToEventLoop } from '../event-loop.js';
import type { Runtime } from '../runtime-types.js';
import type { JobDefinition } from './job.js';

export const DEFAULT_INACTIVITY_DAYS = 90;
export const WARNING_LEAD_DAYS = 7;
/**
 * Surfaces the rule can reach. Seed 001 server credentials and seed 002 keys document no
 * inactivity rule; the vaulted SMTP account is rotated by the vault, not retired for want of use.
 */
const COVERED_SURFACES: Surface[] = ['seed003', 'native'];

export function inactivityDays(settings: TenantSettings, role: Role | null): number {
  return explicitInactivityDays(settings, role) ?? DEFAULT_INACTIVITY_DAYS;
}

function explicitInactivityDays(settings: TenantSettings, role: Role | null): number | undefined {
  return (role ? settings.inactivityDaysByRole?.[role] : undefined) ?? settings.inactivityDays;
}

/**
 * Whether the inactivity rule applies to a credential: seed 003 keys always; native credentials
 * only when the tenant's settings name a period for them (`inactivity_days`, or
 * `inactivity_days_by_role` for the credential's role); nothing else.
 */
export function inactivityApplies(surface: string, settings: TenantSettings, role: Role | null): boolean {
  if (surface === 'seed003') return true;
  return surface === 'native' && explicitInactivityDays(settings, role) !== undefined;
}

export interface InactivityScanOptions {
  /** num_ids per query (tests use a few to cross ranges); default SCAN_RANGE for the dialect. */
  rangeWidth?: number;
}

export async function revokeInactiveCredentials(runtime: Runtime, options: InactivityScanOptions = {}): Promise<number> {
  const context = runtime.services.context;
  const store = runtime.store;
  // Uses this node has seen but not yet written count too (other nodes flush every few seconds).
  await runtime.services.usage.flush();
  const now = context.clock.now();
  const nowIso = now.toISOString();

  const settings = await store.scans.tenantSettings();
  let shortest = DEFAULT_INACTIVITY_DAYS;
  for (const s of settings.values()) {
    shortest = Math.min(
      shortest,
      s.inactivityDays ?? shortest,
      ...Object.values(s.inactivityDaysByRole ?? {}).filter((d): d is number => typeof d === 'number'),
    );
  }
  // Nothing active more recently than this can be due for a warning anywhere.
  const horizon = new Date(now.getTime() - Math.max(0, shortest - WARNING_LEAD_DAYS) * DAY).toISOString();

  let handled = 0;
  // The activity of a key (coalesce(last_used_at, created_at)) cannot be indexed without an index
  // that every login would write, so the table is read in short num_id ranges instead.
  for await (const range of store.scans.credentialRanges(options.rangeWidth)) {
    const rows = await store.scans.inactivityCandidates(range, horizon, COVERED_SURFACES);

    for (const row of rows) {
      const tenantSettings = settings.get(row.tenant_id) ?? {};
      if (!inactivityApplies(row.surface, tenantSettings, row.role)) continue;
      const days = inactivityDays(tenantSettings, row.role);
      const revokeAt = new Date(new Date(row.activity).getTime() + days * DAY);
      const warnAt = new Date(revokeAt.getTime() - WARNING_LEAD_DAYS * DAY);
      if (now >= revokeAt) {
        const revoked = await store.transaction(async (repositories) => {
          const current = await repositories.credentials.findById(row.tenant_id, row.id);
          // Used meanwhile, or revoked by someone (another node) first: nothing to do.
          if (current?.status !== 'active' || (current.lastUsedAt ?? current.createdAt) !== row.activity) return null;
          return runtime.services.credentials.revokeWithin(repositories, current, 'inactivity', SYSTEM_ACTOR);
        });
        if (revoked) {
          announceCredentialChange(context, revoked.tenantId, [revoked.keyHash]);
          handled += 1;
        }
        // Each transaction is synchronous on SQLite: let requests in between.
        await yieldToEventLoop();
      } else if (now >= warnAt) {
        const warned = await store.transaction(async (repositories) => {
          if (!(await repositories.lifecycleNotices.claim(row.id, 'inactivity_warning', row.activity, nowIso))) return false;
          await recordEvent(context, repositories, {
            tenantId: row.tenant_id,
            event: 'credential.inactivity_warning',
            actor: SYSTEM_ACTOR,
            occurredAt: nowIso,
            severity: 'warning',
            targetType: 'credential',
            targetId: row.id,
            details: { reason: 'inactivity', inactive_since: row.activity, revokes_at: revokeAt.toISOString(), inactivity_days: days },
          });
          return true;
        });
        if (warned) handled += 1;
        await yieldToEventLoop();
      }
    }
  }
  return handled;
}

export const inactivityRevocationJob: JobDefinition = {
  name: 'inactivity-revocation',
  intervalMs: 3_600_000,
  run: (runtime) => revokeInactiveCredentials(runtime),
};
