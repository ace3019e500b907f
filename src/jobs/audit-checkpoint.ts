// audit-checkpoint: every RELAYKEY_AUDIT_CHECKPOINT_MINUTES (15; 0 = off) one node of the cluster
// signs the heads of every audit chain, stores the checkpoint, writes it to the log (one line,
// "audit checkpoint") and queues an `audit.checkpoint` webhook, signed for its own chain only, to
// each subscribed endpoint of a tenant whose chain moved since the previous checkpoint. Kept off
// the database, these copies catch a chain truncated or restored to an older state
// (`relaykey audit verify --checkpoint FILE`, docs/security.md).
import { PLATFORM_CHAIN } from '../domain/audit.js';
import { signCheckpoint, takeCheckpoint } from '../domain/audit-checkpoint.js';
import type { Runtime } from '../runtime-types.js';
import { CHECKPOINT_WEBHOOK_TYPE } from '../webhooks/events.js';
import { newDeliveryId } from '../webhooks/outbox.js';
import type { JobDefinition } from './job.js';

/** Stored checkpoints older than this are dropped (the newest is always kept). */
const CHECKPOINTS_KEPT_MS = 30 * 24 * 60 * 60_000;

/** Takes this interval's checkpoint if no node has; returns how many chains it covers (0 when taken elsewhere). */
export async function runAuditCheckpoint(runtime: Runtime): Promise<number> {
  const minutes = runtime.config.auditCheckpointMinutes;
  const keys = runtime.services.context.auditKeys;
  if (!minutes || !keys) return 0;
  const signer = runtime.services.checkpointSigner;
  const now = runtime.services.context.clock.now();
  const intervalMs = minutes * 60_000;
  const slot = new Date(Math.floor(now.getTime() / intervalMs) * intervalMs).toISOString();
  const taken = await runtime.store.transaction(async (repositories) => {
    const result = await takeCheckpoint(repositories, keys, signer, { now, slot });
    if (!result) return null;
    const { checkpoint, previous } = result;
    const webhooks = repositories.webhooks;
    for (const head of checkpoint.heads) {
      if (head.chain === PLATFORM_CHAIN) continue;
      const before = previous.get(head.chain);
      if (before && before.count === head.count && before.last_hash === head.last_hash) continue;
      const endpoints = (await webhooks.listEndpoints(head.chain, { enabledOnly: true })).filter(
        (endpoint) => endpoint.events.length === 0 || endpoint.events.includes(CHECKPOINT_WEBHOOK_TYPE),
      );
      if (endpoints.length === 0) continue;
      // The tenant's own head, signed on its own: a receiver learns nothing of other tenants.
      const own = signCheckpoint(signer, { id: checkpoint.id, createdAt: checkpoint.created_at, heads: [head] });
      const payload = JSON.stringify({ type: CHECKPOINT_WEBHOOK_TYPE, timestamp: checkpoint.created_at, data: { tenant_id: head.chain, checkpoint: own } });
      for (const endpoint of endpoints) {
        await webhooks.insertDelivery({
          id: newDeliveryId(),
          endpointId: endpoint.id,
          tenantId: head.chain,
          eventType: CHECKPOINT_WEBHOOK_TYPE,
          auditEventId: checkpoint.id,
          payload,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: checkpoint.created_at,
          createdAt: checkpoint.created_at,
          subject: null,
          sequence: null,
        });
      }
    }
    await repositories.audit.pruneCheckpoints(new Date(now.getTime() - CHECKPOINTS_KEPT_MS).toISOString(), checkpoint.id);
    return result;
  });
  if (!taken) return 0;
  if (taken.unauthentic.length > 0) {
    runtime.logger.error(
      { chains: taken.unauthentic },
      'audit chain head does not match its MAC (rewritten without the audit key): left out of the checkpoint; run relaykey audit verify',
    );
  }
  runtime.logger.info({ checkpoint: taken.checkpoint }, 'audit checkpoint');
  return taken.checkpoint.heads.length;
}

export const auditCheckpointJob: JobDefinition = {
  name: 'audit-checkpoint',
  intervalMs: 15 * 60_000,
  intervalFor: (config) => Math.max(1, config.auditCheckpointMinutes) * 60_000,
  enabled: (config) => config.auditCheckpointMinutes > 0,
  run: runAuditCheckpoint,
};
