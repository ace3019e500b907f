// Webhook endpoints and the delivery outbox. Claiming due deliveries is the one place where
// several nodes race: a conditional UPDATE over rows picked with FOR UPDATE SKIP LOCKED
// (PostgreSQL) hands each due row to exactly one node for the length of a lease.
import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../domain/types.js';
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.js';
import { parseJson } from './json.js';

export interface WebhookEndpointRecord {
  id: string;
  tenantId: string;
  url: string;
  description: string | null;
  events: string[];
  secretCiphertext: string;
  secretNonce: string;
  rootKeyVersion: number;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** The secret before the last rotation; it signs beside the current one until previousSecretExpiresAt. */
  previousSecret: { ciphertext: string; nonce: string; rootKeyVersion: number; expiresAt: string } | null;
  secretRotatedAt: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailureError: string | null;
  consecutiveFailures: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  tenantId: string;
  eventType: string;
  auditEventId: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lockedUntil: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpointRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    description: row.description,
    events: parseJson(row.events, []),
    secretCiphertext: row.secret_ciphertext,
    secretNonce: row.secret_nonce,
    rootKeyVersion: Number(row.root_key_version),
    enabled: Number(row.enabled) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    previousSecret:
      row.previous_secret_ciphertext && row.previous_secret_nonce && row.previous_secret_expires_at
        ? {
            ciphertext: row.previous_secret_ciphertext,
            nonce: row.previous_secret_nonce,
            rootKeyVersion: Number(row.previous_root_key_version),
            expiresAt: row.previous_secret_expires_at,
          }
        : null,
    secretRotatedAt: row.secret_rotated_at,
    lastSuccessAt: row.last_success_at,
    lastFailureAt: row.last_failure_at,
    lastFailureError: row.last_failure_error,
    consecutiveFailures: Number(row.consecutive_failures ?? 0),
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    auditEventId: row.audit_event_id,
    payload: row.payload,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lockedUntil: row.locked_until,
    lastAttemptAt: row.last_attempt_at,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

export interface AttemptResult {
  status: DeliveryStatus;
  attempts: number;
  attemptedAt: string;
  nextAttemptAt: string;
  statusCode: number | null;
  error: string | null;
}

export class WebhookRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres',
  ) {}

  async insertEndpoint(endpoint: WebhookEndpointRecord): Promise<void> {
    await this.db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoint.id,
        tenant_id: endpoint.tenantId,
        url: endpoint.url,
        description: endpoint.description,
        events: JSON.stringify(endpoint.events),
        secret_ciphertext: endpoint.secretCiphertext,
        secret_nonce: endpoint.secretNonce,
        root_key_version: endpoint.rootKeyVersion,
        enabled: endpoint.enabled ? 1 : 0,
        created_at: endpoint.createdAt,
        updated_at: endpoint.updatedAt,
      })
      .execute();
  }

  async updateEndpoint(
    tenantId: string,
    id: string,
    changes: Partial<Pick<WebhookEndpointRecord, 'url' | 'description' | 'events' | 'enabled'>> & { updatedAt: string },
  ): Promise<WebhookEndpointRecord | null> {
    const row = await this.db
      .updateTable('webhook_endpoints')
      .set({
        updated_at: changes.updatedAt,
        ...(changes.url !== undefined ? { url: changes.url } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.events !== undefined ? { events: JSON.stringify(changes.events) } : {}),
        ...(changes.enabled !== undefined ? { enabled: changes.enabled ? 1 : 0 } : {}),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  /** Replaces the signing secret; the old one keeps signing (beside the new) until `previousExpiresAt`, or never when null. */
  async replaceSecret(
    tenantId: string,
    id: string,
    next: { ciphertext: string; nonce: string; rootKeyVersion: number },
    at: string,
    previousExpiresAt: string | null,
  ): Promise<WebhookEndpointRecord | null> {
    const current = await this.findEndpoint(tenantId, id);
    if (!current) return null;
    const row = await this.db
      .updateTable('webhook_endpoints')
      .set({
        secret_ciphertext: next.ciphertext,
        secret_nonce: next.nonce,
        root_key_version: next.rootKeyVersion,
        previous_secret_ciphertext: previousExpiresAt ? current.secretCiphertext : null,
        previous_secret_nonce: previousExpiresAt ? current.secretNonce : null,
        previous_root_key_version: previousExpiresAt ? current.rootKeyVersion : null,
        previous_secret_expires_at: previousExpiresAt,
        secret_rotated_at: at,
        updated_at: at,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  /** Counts an attempt towards the endpoint's health: a success resets the failures in a row. */
  async recordEndpointOutcome(id: string, ok: boolean, at: string, error: string | null): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set((eb) =>
        ok
          ? { last_success_at: at, consecutive_failures: 0 }
          : { last_failure_at: at, last_failure_error: error, consecutive_failures: eb('consecutive_failures', '+', 1) },
      )
      .where('id', '=', id)
      .execute();
  }

  /** Per endpoint of the tenant: deliveries attempted since `since`, and how many of them were delivered. */
  async recentOutcomes(tenantId: string, since: string): Promise<Map<string, { attempted: number; delivered: number }>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => [
        'endpoint_id',
        eb.fn.countAll<number>().as('attempted'),
        eb.fn.sum<number>(eb.case().when('status', '=', 'delivered').then(1).else(0).end()).as('delivered'),
      ])
      .where('tenant_id', '=', tenantId)
      .where('attempts', '>', 0)
      .where('last_attempt_at', '>=', since)
      .groupBy('endpoint_id')
      .execute();
    return new Map(rows.map((row) => [row.endpoint_id, { attempted: Number(row.attempted), delivered: Number(row.delivered ?? 0) }]));
  }

  async deleteEndpoint(tenantId: string, id: string): Promise<boolean> {
    await this.db.deleteFrom('webhook_deliveries').where('tenant_id', '=', tenantId).where('endpoint_id', '=', id).execute();
    const result = await this.db.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findEndpoint(tenantId: string, id: string): Promise<WebhookEndpointRecord | null> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  async findEndpointById(id: string): Promise<WebhookEndpointRecord | null> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEndpoint(row) : null;
  }

  async listEndpoints(tenantId: string, options: { enabledOnly?: boolean } = {}): Promise<WebhookEndpointRecord[]> {
    let query = this.db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId);
    if (options.enabledOnly) query = query.where('enabled', '=', 1);
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toEndpoint);
  }

  async insertDelivery(
    delivery: Omit<WebhookDelivery, 'lockedUntil' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError' | 'deliveredAt'> & {
      subject?: string | null;
      sequence?: number | null;
    },
  ): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: delivery.id,
        endpoint_id: delivery.endpointId,
        tenant_id: delivery.tenantId,
        event_type: delivery.eventType,
        audit_event_id: delivery.auditEventId,
        payload: delivery.payload,
        status: delivery.status,
        attempts: delivery.attempts,
        next_attempt_at: delivery.nextAttemptAt,
        locked_until: null,
        last_attempt_at: null,
        last_status_code: null,
        last_error: null,
        delivered_at: null,
        created_at: delivery.createdAt,
        subject: delivery.subject ?? null,
        sequence: delivery.sequence ?? null,
      })
      .execute();
  }

  async findDelivery(tenantId: string, id: string): Promise<WebhookDelivery | null> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async listDeliveries(tenantId: string, endpointId: string, status: DeliveryStatus | undefined, request: PageRequest): Promise<Page<WebhookDelivery>> {
    let base = this.db.selectFrom('webhook_deliveries').where('tenant_id', '=', tenantId).where('endpoint_id', '=', endpointId);
    if (status) base = base.where('status', '=', status);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toDelivery), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  /**
   * Leases up to `limit` due deliveries to the caller until `leaseUntil`. A row is due when
   * pending, its next attempt has come and no live lease covers it; a node that dies while
   * sending leaves a lease that simply runs out, so the row goes out again (at least once).
   */
  async claimDue(now: string, leaseUntil: string, limit: number): Promise<WebhookDelivery[]> {
    let due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      // In order per endpoint and subject: only the earliest pending delivery of a subject is
      // sent; the next waits until it is delivered or dead (retries included).
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_deliveries as earlier')
              .select('earlier.id')
              .whereRef('earlier.endpoint_id', '=', 'webhook_deliveries.endpoint_id')
              .whereRef('earlier.subject', '=', 'webhook_deliveries.subject')
              .where('earlier.status', '=', 'pending')
              .where((eb) =>
                eb.or([
                  eb('earlier.sequence', '<', eb.ref('webhook_deliveries.sequence')),
                  eb.and([eb('earlier.sequence', '=', eb.ref('webhook_deliveries.sequence')), eb('earlier.id', '<', eb.ref('webhook_deliveries.id'))]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('next_attempt_at', 'asc')
      .limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set({ locked_until: leaseUntil })
      .where('id', 'in', due)
      // Re-checked by the UPDATE itself, so a row leased meanwhile is not taken twice.
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .returningAll()
      .execute();
    return rows.map(toDelivery).sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt));
  }

  /** Records an attempt; only the holder of the lease may (a stale node's write is dropped). */
  async recordAttempt(id: string, lease: string, result: AttemptResult): Promise<boolean> {
    const outcome = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: result.status,
        attempts: result.attempts,
        last_attempt_at: result.attemptedAt,
        next_attempt_at: result.nextAttemptAt,
        last_status_code: result.statusCode,
        last_error: result.error,
        locked_until: null,
        ...(result.status === 'delivered' ? { delivered_at: result.attemptedAt } : {}),
      })
      .where('id', '=', id)
      .where('locked_until', '=', lease)
      .executeTakeFirst();
    return Number(outcome.numUpdatedRows) > 0;
  }

  /** Queues a delivery again with the same id (so the same webhook-id) and a fresh retry schedule. */
  async requeue(tenantId: string, id: string, now: string): Promise<WebhookDelivery | null> {
    const row = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, locked_until: null })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toDelivery(row) : null;
  }
}
