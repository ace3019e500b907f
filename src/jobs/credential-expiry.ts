// credential-expiry: records `credential.expired` once for each credential whose expiry passed.
// Verification already denies expired keys; this job makes the fact visible (audit, webhooks).
import { recordEvent } from '../domain/context.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import type { Runtime } from '../runtime.js';
import { LifecycleNoticeRepository } from '../storage/repositories/lifecycle-notices.js';
import type { JobDefinition } from './job.js';

const BATCH = 500;

export async function recordExpiredCredentials(runtime: Runtime): Promise<number> {
  const context = runtime.services.context;
  const now = context.clock.now().toISOString();
  const due = await runtime.store.db
    .selectFrom('credentials as c')
    .leftJoin('lifecycle_notices as n', (join) => join.onRef('n.credential_id', '=', 'c.id').on('n.notice', '=', 'expired'))
    .select(['c.id', 'c.tenant_id', 'c.name', 'c.expires_at'])
    .where('c.status', '=', 'active')
    .where('c.expires_at', 'is not', null)
    .where('c.expires_at', '<=', now)
    .where((eb) => eb.or([eb('n.credential_id', 'is', null), eb('n.subject', '<>', eb.ref('c.expires_at'))]))
    .orderBy('c.expires_at', 'asc')
    .limit(BATCH)
    .execute();
  let recorded = 0;
  for (const row of due) {
    const expiresAt = row.expires_at as string;
    const claimed = await context.store.transaction(async (repositories) => {
      if (!(await new LifecycleNoticeRepository(repositories.db).claim(row.id, 'expired', expiresAt, now))) return false;
      await recordEvent(context, repositories, {
        tenantId: row.tenant_id,
        event: 'credential.expired',
        actor: SYSTEM_ACTOR,
        occurredAt: now,
        severity: 'warning',
        targetType: 'credential',
        targetId: row.id,
        details: { name: row.name, expires_at: expiresAt },
      });
      return true;
    });
    if (claimed) recorded += 1;
  }
  return recorded;
}

export const credentialExpiryJob: JobDefinition = {
  name: 'credential-expiry',
  intervalMs: 60_000,
  run: recordExpiredCredentials,
};
