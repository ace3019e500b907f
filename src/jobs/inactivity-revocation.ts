// inactivity-revocation: a credential unused for its tenant's (or its role's) inactivity period
// (90 days unless configured; last use, or creation if never used) is revoked with reason
// `inactivity`; a `credential.inactivity_warning` goes out once, 7 days before.
import { sql } from 'kysely';
import { DAY } from '../clock.js';
import { announceCredentialChange, recordEvent } from '../domain/context.js';
import type { Role } from '../domain/scopes.js';
import { SYSTEM_ACTOR, type TenantSettings } from '../domain/types.js';
import type { Runtime } from '../runtime.js';
import { parseJson } from '../storage/repositories/json.js';
import { LifecycleNoticeRepository } from '../storage/repositories/lifecycle-notices.js';
import type { JobDefinition } from './job.js';

export const DEFAULT_INACTIVITY_DAYS = 90;
export const WARNING_LEAD_DAYS = 7;
const PAGE = 500;
/** The vaulted SMTP account is rotated by the vault, not retired for want of use. */
const EXEMPT_SURFACES = ['smtp_account'];

export function inactivityDays(settings: TenantSettings, role: Role | null): number {
  return (role ? settings.inactivityDaysByRole?.[role] : undefined) ?? settings.inactivityDays ?? DEFAULT_INACTIVITY_DAYS;
}

export async function revokeInactiveCredentials(runtime: Runtime): Promise<number> {
  const context = runtime.services.context;
  const store = runtime.store;
  // Uses this node has seen but not yet written count too (other nodes flush every few seconds).
  await runtime.services.usage.flush();
  const now = context.clock.now();
  const nowIso = now.toISOString();

  const settings = new Map<string, TenantSettings>();
  for (const row of await store.db.selectFrom('tenants').select(['id', 'settings']).execute()) {
    settings.set(row.id, parseJson<TenantSettings>(row.settings, {}));
  }
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
  const activity = sql<string>`coalesce(last_used_at, created_at)`;

  let handled = 0;
  let after: { activity: string; id: string } | null = null;
  for (;;) {
    let query = store.db
      .selectFrom('credentials')
      .select(['id', 'tenant_id', 'role', 'last_used_at', 'created_at'])
      .select(activity.as('activity'))
      .where('status', '=', 'active')
      .where('surface', 'not in', EXEMPT_SURFACES)
      .where(activity, '<=', horizon);
    if (after) {
      const cursor = after;
      query = query.where((eb) => eb.or([eb(activity, '>', cursor.activity), eb.and([eb(activity, '=', cursor.activity), eb('id', '>', cursor.id)])]));
    }
    const rows = await query.orderBy(activity).orderBy('id').limit(PAGE).execute();
    if (rows.length === 0) break;
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { activity: last.activity, id: last.id };

    for (const row of rows) {
      const days = inactivityDays(settings.get(row.tenant_id) ?? {}, row.role as Role | null);
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
      } else if (now >= warnAt) {
        const warned = await store.transaction(async (repositories) => {
          if (!(await new LifecycleNoticeRepository(repositories.db).claim(row.id, 'inactivity_warning', row.activity, nowIso))) return false;
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
      }
    }
    if (rows.length < PAGE) break;
  }
  return handled;
}

export const inactivityRevocationJob: JobDefinition = {
  name: 'inactivity-revocation',
  intervalMs: 3_600_000,
  run: revokeInactiveCredentials,
};
