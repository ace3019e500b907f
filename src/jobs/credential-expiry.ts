// credential-expiry: records `credential.expired` once for each credential whose expiry passed.
// Verification already denies expired keys; this job makes the fact visible (audit, webhooks).
import { recordEvent } from '../domain/context.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { yieldToEventLoop } from '../event-loop.js';
import type { Runtime } from '../runtime-types.js';
import type { ExpiryCursor } from '../storage/repositories/job-scans.js';
import type { JobDefinition } from './job.js';

interface DueExpiry {
  id: string;
  tenantId: string;
  name: string;
  expiresAt: string;
}

/** Expirations announced per run at most; the rest wait for the next run, a minute later. */
const BATCH = 500;
/**
 * Expired keys read per query. The walk reads only the index and the notices (a few µs a key on
 * SQLite, mostly the notice lookup), so a chunk is a few milliseconds on the event loop.
 */
export const EXPIRY_CHUNK = 500;

export interface ExpiryScanOptions {
  /** Keys read per query (tests use a few to cross chunks); default EXPIRY_CHUNK. */
  chunkRows?: number;
}

export async function recordExpiredCredentials(runtime: Runtime, options: ExpiryScanOptions = {}): Promise<number> {
  const context = runtime.services.context;
  const now = context.clock.now().toISOString();
  const chunkRows = options.chunkRows ?? EXPIRY_CHUNK;
  const due: DueExpiry[] = [];
  // An expired key stays active (verification denies it by its expires_at), so the expired range
  // of credentials_expiry_idx grows with every expiry: walk it in chunks, in expiry order, and
  // keep the keys not yet announced for this expires_at.
  let after: ExpiryCursor | null = null;
  while (due.length < BATCH) {
    const rows = await runtime.store.scans.expiredKeys(now, after, chunkRows);
    const fresh = rows.filter((row) => row.subject !== row.expires_at).slice(0, BATCH - due.length);
    if (fresh.length > 0) {
      // Name and tenant only for the keys to announce: the walk itself never reads a credential row.
      const ids = fresh.map((row) => row.id);
      const details = await runtime.store.scans.credentialSummaries(ids);
      const byId = new Map(details.map((row) => [row.id, row]));
      for (const row of fresh) {
        const detail = byId.get(row.id);
        if (detail) due.push({ id: row.id, tenantId: detail.tenant_id, name: detail.name, expiresAt: row.expires_at as string });
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < chunkRows) break;
    after = { expiresAt: last.expires_at as string, id: last.id };
    await yieldToEventLoop();
  }
  let recorded = 0;
  for (const row of due) {
    const expiresAt = row.expiresAt;
    const claimed = await context.store.transaction(async (repositories) => {
      if (!(await repositories.lifecycleNotices.claim(row.id, 'expired', expiresAt, now))) return false;
      await recordEvent(context, repositories, {
        tenantId: row.tenantId,
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
    // Each transaction is synchronous on SQLite: let requests in between.
    await yieldToEventLoop();
  }
  return recorded;
}

export const credentialExpiryJob: JobDefinition = {
  name: 'credential-expiry',
  intervalMs: 60_000,
  run: (runtime) => recordExpiredCredentials(runtime),
};
