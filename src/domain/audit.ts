// The audit trail: every change and every secret read appends an event inside the same
// transaction; each tenant's events form a SHA-256 hash chain whose head is kept apart,
// so an edited, inserted or deleted row (the last one included) is detected.
import { createHash, randomUUID } from 'node:crypto';
import { parseKey } from '../crypto/key-format.js';
import type { Repositories } from '../storage/store.js';
import type { Actor, AuditEvent, Severity } from './types.js';

export const PLATFORM_CHAIN = 'platform';

export interface AuditInput {
  tenantId: string | null;
  event: string;
  actor: Actor;
  occurredAt: string;
  severity?: Severity;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

type HashedFields = Omit<AuditEvent, 'seq' | 'hash' | 'details'> & { detailsText: string };

export function hashAuditEvent(fields: HashedFields): string {
  const material = JSON.stringify([
    fields.prevHash,
    fields.id,
    fields.chain,
    fields.tenantId,
    fields.event,
    fields.actorType,
    fields.actorId,
    fields.occurredAt,
    fields.clientIp,
    fields.severity,
    fields.targetType,
    fields.targetId,
    fields.detailsText,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

const KEY_LIKE = /[a-z]{2,5}_[0-9A-Za-z]{38}/g;

/** Defence in depth: audit details must never carry a key in our format. */
function assertNoSecrets(detailsText: string): void {
  for (const match of detailsText.matchAll(KEY_LIKE)) {
    if (parseKey(match[0])) throw new Error('refusing to write a secret into an audit event');
  }
}

export async function appendAudit(repositories: Repositories, input: AuditInput): Promise<AuditEvent> {
  const chain = input.tenantId ?? PLATFORM_CHAIN;
  const detailsText = JSON.stringify(input.details ?? {});
  assertNoSecrets(detailsText);
  let head = await repositories.audit.lockHead(chain);
  if (!head) {
    await repositories.audit.createHead(chain);
    head = await repositories.audit.lockHead(chain);
    if (!head) throw new Error(`audit chain head ${chain} is missing`);
  }
  const fields: HashedFields = {
    id: randomUUID(),
    chain,
    tenantId: input.tenantId,
    event: input.event,
    actorType: input.actor.type,
    actorId: input.actor.id,
    occurredAt: input.occurredAt,
    clientIp: input.actor.ip,
    severity: input.severity ?? 'info',
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    prevHash: head.lastHash,
    detailsText,
  };
  const hash = hashAuditEvent(fields);
  const { detailsText: _omit, ...rest } = fields;
  const event = { ...rest, details: input.details ?? {}, hash };
  await repositories.audit.insert(event);
  await repositories.audit.setHead(chain, hash, head.count + 1);
  return { ...event, seq: 0, chainPosition: head.count + 1 };
}

export interface ChainProblem {
  chain: string;
  eventId: string | null;
  seq: number | null;
  problem: string;
}

/** Walks every chain (or one tenant's) and reports the first bad event of each broken chain. */
export async function verifyAuditChains(repositories: Repositories, tenantId?: string): Promise<{ chains: number; events: number; problems: ChainProblem[] }> {
  const heads = (await repositories.audit.listChains()).filter((h) => tenantId === undefined || h.chain === tenantId);
  const problems: ChainProblem[] = [];
  let events = 0;
  for (const head of heads) {
    let previous = '';
    let count = 0;
    let broken = false;
    for await (const event of repositories.audit.streamChain(head.chain)) {
      count += 1;
      events += 1;
      if (broken) continue;
      if (event.prevHash !== previous) {
        problems.push({
          chain: head.chain,
          eventId: event.id,
          seq: event.seq,
          problem: 'previous hash does not match: an earlier event was changed, removed or inserted',
        });
        broken = true;
        continue;
      }
      const expected = hashAuditEvent({ ...event, detailsText: JSON.stringify(event.details) });
      if (expected !== event.hash) {
        problems.push({ chain: head.chain, eventId: event.id, seq: event.seq, problem: 'event content does not match its hash: this event was changed' });
        broken = true;
        continue;
      }
      previous = event.hash;
    }
    if (!broken && (previous !== head.lastHash || count !== head.count)) {
      problems.push({
        chain: head.chain,
        eventId: null,
        seq: null,
        problem: `chain ends at event ${count} but its head records ${head.count}: events were removed from the end`,
      });
    }
  }
  return { chains: heads.length, events, problems };
}
