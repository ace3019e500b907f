// Audit events: append-only rows chained per tenant; the chain head is locked while appending.
import type { Kysely, Selectable } from 'kysely';
import type { AuditEvent, Page, PageRequest, Severity } from '../../domain/types.js';
import type { AuditChainHeadsTable, AuditCheckpointsTable, AuditEventsTable, Database } from '../schema.js';
import { parseJson } from './json.js';

export function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    chain: row.chain,
    tenantId: row.tenant_id,
    event: row.event,
    actorType: row.actor_type,
    actorId: row.actor_id,
    occurredAt: row.occurred_at,
    clientIp: row.client_ip,
    severity: row.severity,
    targetType: row.target_type,
    targetId: row.target_id,
    details: parseJson(row.details, {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export interface AuditFilter {
  /** null: the platform chain (admin sign-ins, platform tokens). */
  tenantId: string | null;
  events?: string[];
  severity?: Severity;
  actorId?: string;
  targetId?: string;
  since?: string;
  until?: string;
  /** Only events about this login and its credentials, or done by this token (a login-bound bearer's view). */
  aboutLogin?: { loginId: string; tokenId: string };
}

export interface ChainHead {
  chain: string;
  lastHash: string;
  count: number;
  headMac: string | null;
  legacyEvents: number;
}

function toHead(row: Selectable<AuditChainHeadsTable>): ChainHead {
  return { chain: row.chain, lastHash: row.last_hash, count: Number(row.event_count), headMac: row.head_mac, legacyEvents: Number(row.legacy_events) };
}

export class AuditRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly lockRows: boolean,
  ) {}

  /** Reads (and on PostgreSQL row-locks) the chain head so concurrent appends cannot fork the chain. */
  async lockHead(chain: string): Promise<ChainHead | null> {
    let query = this.db.selectFrom('audit_chain_heads').selectAll().where('chain', '=', chain);
    if (this.lockRows) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toHead(row) : null;
  }

  async createHead(chain: string): Promise<boolean> {
    const result = await this.db
      .insertInto('audit_chain_heads')
      .values({ chain, last_hash: '', event_count: 0 })
      .onConflict((oc) => oc.column('chain').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async setHead(chain: string, lastHash: string, count: number, headMac: string | null): Promise<void> {
    await this.db.updateTable('audit_chain_heads').set({ last_hash: lastHash, event_count: count, head_mac: headMac }).where('chain', '=', chain).execute();
  }

  async setHeadMac(chain: string, headMac: string): Promise<void> {
    await this.db.updateTable('audit_chain_heads').set({ head_mac: headMac }).where('chain', '=', chain).execute();
  }

  async insert(event: Omit<AuditEvent, 'seq'>): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        id: event.id,
        chain: event.chain,
        tenant_id: event.tenantId,
        event: event.event,
        actor_type: event.actorType,
        actor_id: event.actorId,
        occurred_at: event.occurredAt,
        client_ip: event.clientIp,
        severity: event.severity,
        target_type: event.targetType,
        target_id: event.targetId,
        details: JSON.stringify(event.details),
        prev_hash: event.prevHash,
        hash: event.hash,
      })
      .execute();
  }

  async list(filter: AuditFilter, request: PageRequest, order: 'asc' | 'desc' = 'desc'): Promise<Page<AuditEvent>> {
    let base =
      filter.tenantId === null
        ? this.db.selectFrom('audit_events').where('tenant_id', 'is', null)
        : this.db.selectFrom('audit_events').where('tenant_id', '=', filter.tenantId);
    if (filter.events?.length) base = base.where('event', 'in', filter.events);
    if (filter.severity) base = base.where('severity', '=', filter.severity);
    if (filter.actorId) base = base.where('actor_id', '=', filter.actorId);
    if (filter.targetId) base = base.where('target_id', '=', filter.targetId);
    if (filter.since) base = base.where('occurred_at', '>=', filter.since);
    if (filter.until) base = base.where('occurred_at', '<', filter.until);
    const about = filter.aboutLogin;
    if (about && filter.tenantId !== null) {
      const tenantId = filter.tenantId;
      base = base.where((eb) =>
        eb.or([
          eb('target_id', '=', about.loginId),
          eb('actor_id', '=', about.tokenId),
          eb('target_id', 'in', eb.selectFrom('credentials').select('id').where('tenant_id', '=', tenantId).where('login_id', '=', about.loginId)),
        ]),
      );
    }
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('seq', order)
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toAuditEvent), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  /** The hash of the chain's event at `position` (1-based, in chain order); null past its end. */
  async hashAt(chain: string, position: number): Promise<string | null> {
    if (position < 1) return null;
    const row = await this.db
      .selectFrom('audit_events')
      .select('hash')
      .where('chain', '=', chain)
      .orderBy('seq', 'asc')
      .limit(1)
      .offset(position - 1)
      .executeTakeFirst();
    return row?.hash ?? null;
  }

  /** Writes a checkpoint unless one exists for its slot already (another node wrote it); true when written. */
  async insertCheckpoint(row: AuditCheckpointsTable): Promise<boolean> {
    const result = await this.db
      .insertInto('audit_checkpoints')
      .values(row)
      .onConflict((oc) => oc.column('slot').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async latestCheckpoint(): Promise<AuditCheckpointsTable | null> {
    const row = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('created_at', 'desc').orderBy('slot', 'desc').limit(1).executeTakeFirst();
    return row ?? null;
  }

  /** Drops checkpoints created before `before`, never the newest one. */
  async pruneCheckpoints(before: string, keepId: string): Promise<number> {
    const result = await this.db.deleteFrom('audit_checkpoints').where('created_at', '<', before).where('id', '!=', keepId).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  async listChains(): Promise<ChainHead[]> {
    const rows = await this.db.selectFrom('audit_chain_heads').selectAll().orderBy('chain').execute();
    return rows.map(toHead);
  }

  async *streamChain(chain: string, batchSize = 1000): AsyncGenerator<AuditEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_events')
        .selectAll()
        .where('chain', '=', chain)
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(batchSize)
        .execute();
      for (const row of rows) yield toAuditEvent(row);
      if (rows.length < batchSize) return;
      after = Number(rows[rows.length - 1]?.seq);
    }
  }
}
