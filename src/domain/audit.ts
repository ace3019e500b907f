// The audit trail: every change and every secret read appends an event inside the same
// transaction; each tenant's events form a hash chain whose head is kept apart, so an edited,
// inserted or deleted row (the last one included) is detected. Events are chained with
// HMAC-SHA256 under the audit key (crypto/audit-keys.ts) and the head carries a MAC of its own:
// someone who can write the database but does not hold the root secret cannot recompute the
// chain after changing an event. Events written before the switch-over (plain SHA-256) are
// counted on the head (`legacy_events`) and still verified as they were written.
import { createHash, randomUUID } from 'node:crypto';
import { type AuditKeys, isKeyed } from '../crypto/audit-keys.js';
import { parseKey } from '../crypto/key-format.js';
import type { ChainHead } from '../storage/repositories/audit.js';
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

function eventMaterial(fields: HashedFields): string {
  return JSON.stringify([
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
}

/** The plain SHA-256 of an event: how events were chained before the audit key (legacy rows). */
export function hashAuditEvent(fields: HashedFields): string {
  return createHash('sha256').update(eventMaterial(fields)).digest('hex');
}

function headMaterial(head: Omit<ChainHead, 'headMac'>): string {
  return JSON.stringify(['relaykey/audit-head/v1', head.chain, head.lastHash, head.count, head.legacyEvents]);
}

const KEY_LIKE = /[a-z]{2,5}_[0-9A-Za-z]{38}/g;

/** Defence in depth: audit details must never carry a key in our format. */
function assertNoSecrets(detailsText: string): void {
  for (const match of detailsText.matchAll(KEY_LIKE)) {
    if (parseKey(match[0])) throw new Error('refusing to write a secret into an audit event');
  }
}

export async function appendAudit(repositories: Repositories, input: AuditInput, keys?: AuditKeys): Promise<AuditEvent> {
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
  const hash = keys ? keys.mac(eventMaterial(fields)) : hashAuditEvent(fields);
  const { detailsText: _omit, ...rest } = fields;
  const event = { ...rest, details: input.details ?? {}, hash };
  await repositories.audit.insert(event);
  const next = { chain, lastHash: hash, count: head.count + 1, legacyEvents: head.legacyEvents };
  await repositories.audit.setHead(chain, hash, next.count, keys ? keys.mac(headMaterial(next)) : null);
  return { ...event, seq: 0, chainPosition: head.count + 1 };
}

/** True when the head carries a MAC made with the audit key (a head rewritten without the key is not). */
export function headIsAuthentic(head: ChainHead, keys: AuditKeys): boolean {
  return head.headMac !== null && keys.check(headMaterial(head), head.headMac) === 'ok';
}

/** Writes the MAC of every chain head that has none yet (heads from before the switch-over); at start-up. */
export async function sealAuditHeads(repositories: Repositories, keys: AuditKeys): Promise<number> {
  let sealed = 0;
  for (const head of await repositories.audit.listChains()) {
    if (head.headMac) continue;
    await repositories.audit.setHeadMac(head.chain, keys.mac(headMaterial(head)));
    sealed += 1;
  }
  return sealed;
}

export interface ChainProblem {
  chain: string;
  eventId: string | null;
  seq: number | null;
  problem: string;
}

/** Walks every chain (or one tenant's) and reports the first bad event of each broken chain. */
export async function verifyAuditChains(
  repositories: Repositories,
  tenantId?: string,
  keys?: AuditKeys,
): Promise<{ chains: number; events: number; problems: ChainProblem[] }> {
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
      const fields = { ...event, detailsText: JSON.stringify(event.details) };
      let problem: string | null = null;
      if (isKeyed(event.hash)) {
        const outcome = keys ? keys.check(eventMaterial(fields), event.hash) : 'unknown-key';
        if (outcome === 'unknown-key') problem = `the event is keyed with root key v${event.hash.split('.')[1]}, which is not loaded`;
        else if (outcome === 'mismatch') problem = 'event content does not match its keyed hash: this event was changed';
      } else if (count > head.legacyEvents) {
        // After the switch-over every event is keyed: a plain hash here was written without the key.
        problem = 'event carries a plain SHA-256 hash where a keyed one is required: it was changed or inserted without the audit key';
      } else if (hashAuditEvent(fields) !== event.hash) {
        problem = 'event content does not match its hash: this event was changed';
      }
      if (problem) {
        problems.push({ chain: head.chain, eventId: event.id, seq: event.seq, problem });
        broken = true;
        continue;
      }
      previous = event.hash;
    }
    if (!broken && keys && (!head.headMac || keys.check(headMaterial(head), head.headMac) !== 'ok')) {
      problems.push({
        chain: head.chain,
        eventId: null,
        seq: null,
        problem: head.headMac ? 'the chain head does not match its MAC: it was rewritten without the audit key' : 'the chain head carries no MAC',
      });
    } else if (!broken && (previous !== head.lastHash || count !== head.count)) {
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
