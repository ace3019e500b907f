// Webhook endpoints of a tenant: create (secret shown once), list, change, delete; deliveries
// listed and redelivered. Every change is audited in its own transaction.
import { randomUUID } from 'node:crypto';
import type { RootKeyRing } from '../crypto/root-secret.js';
import { type DomainContext, recordEvent } from '../domain/context.js';
import type { Actor, Page, PageRequest } from '../domain/types.js';
import { AppError, notFound } from '../errors.js';
import type { DeliveryStatus, WebhookDelivery, WebhookEndpointRecord, WebhookRepository } from '../storage/repositories/webhooks.js';
import type { Repositories } from '../storage/store.js';
import { WEBHOOK_TYPES } from './events.js';
import { newDeliveryId } from './outbox.js';
import { generateSigningSecret, openSecret, sealSecret } from './secrets.js';
import { resolvedProblem } from './target-safety.js';

export type WebhookEndpoint = Omit<WebhookEndpointRecord, 'secretCiphertext' | 'secretNonce' | 'rootKeyVersion' | 'previousSecret'> & {
  /** Until when the secret before the last rotation still signs (null: only the current one signs). */
  previousSecretExpiresAt: string | null;
};

/** How an endpoint has fared lately: the console's health column. */
export interface WebhookHealth {
  /** Deliveries attempted in the last 24 h, and the share of them delivered (null when none). */
  attempted24h: number;
  successRate24h: number | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailureError: string | null;
  consecutiveFailures: number;
  state: 'disabled' | 'failing' | 'healthy' | 'unused';
}

/** The webhook type of a test event: sent to one endpoint on request, never from an audit event. */
export const TEST_WEBHOOK_TYPE = 'webhook.test';
/** How long the old secret keeps signing after a rotation when the caller does not say. */
export const DEFAULT_SECRET_OVERLAP_SECONDS = 24 * 3600;
const HEALTH_WINDOW_MS = 24 * 3_600_000;

export interface CreateWebhookInput {
  tenantId: string;
  url: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

export interface UpdateWebhookInput {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

function publicView(record: WebhookEndpointRecord, now?: string): WebhookEndpoint {
  const { secretCiphertext: _c, secretNonce: _n, rootKeyVersion: _v, previousSecret, ...rest } = record;
  const live = previousSecret && (!now || previousSecret.expiresAt > now) ? previousSecret.expiresAt : null;
  return { ...rest, previousSecretExpiresAt: live };
}

export function healthOf(endpoint: WebhookEndpoint, recent: { attempted: number; delivered: number } | undefined): WebhookHealth {
  const attempted = recent?.attempted ?? 0;
  return {
    attempted24h: attempted,
    successRate24h: attempted > 0 ? (recent?.delivered ?? 0) / attempted : null,
    lastSuccessAt: endpoint.lastSuccessAt,
    lastFailureAt: endpoint.lastFailureAt,
    lastFailureError: endpoint.lastFailureError,
    consecutiveFailures: endpoint.consecutiveFailures,
    state: !endpoint.enabled ? 'disabled' : endpoint.consecutiveFailures > 0 ? 'failing' : endpoint.lastSuccessAt ? 'healthy' : 'unused',
  };
}

export class WebhookService {
  constructor(
    private readonly context: DomainContext,
    private readonly rootKeys: RootKeyRing,
    private readonly allowNetworks: readonly string[],
  ) {}

  private repo(repositories: Repositories = this.context.store): WebhookRepository {
    return repositories.webhooks;
  }

  private now(): string {
    return this.context.clock.now().toISOString();
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await resolvedProblem(url, this.allowNetworks);
    if (problem) throw new AppError('VALIDATION_FAILED', problem);
  }

  private checkEvents(events: string[]): string[] {
    const unknown = events.filter((e) => !WEBHOOK_TYPES.includes(e));
    if (unknown.length) throw new AppError('VALIDATION_FAILED', `unknown webhook event type "${unknown[0]}" (known: ${WEBHOOK_TYPES.join(', ')})`);
    return [...new Set(events)].sort();
  }

  async create(input: CreateWebhookInput, actor: Actor): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const events = this.checkEvents(input.events ?? []);
    await this.checkUrl(input.url);
    const secret = generateSigningSecret();
    const id = randomUUID();
    const now = this.now();
    const sealed = sealSecret(this.rootKeys, input.tenantId, id, secret);
    const record: WebhookEndpointRecord = {
      id,
      tenantId: input.tenantId,
      url: input.url,
      description: input.description ?? null,
      events,
      secretCiphertext: sealed.ciphertext,
      secretNonce: sealed.nonce,
      rootKeyVersion: sealed.rootKeyVersion,
      enabled: input.enabled ?? true,
      createdAt: now,
      updatedAt: now,
      previousSecret: null,
      secretRotatedAt: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastFailureError: null,
      consecutiveFailures: 0,
    };
    await this.context.store.transaction(async (repositories) => {
      if (!(await repositories.tenants.findById(input.tenantId))) throw notFound('tenant');
      await this.repo(repositories).insertEndpoint(record);
      await recordEvent(this.context, repositories, {
        tenantId: input.tenantId,
        event: 'webhook.created',
        actor,
        occurredAt: now,
        targetType: 'webhook',
        targetId: id,
        details: { url: record.url, events, enabled: record.enabled },
      });
    });
    return { endpoint: publicView(record), secret };
  }

  async list(tenantId: string): Promise<WebhookEndpoint[]> {
    const now = this.now();
    return (await this.repo().listEndpoints(tenantId)).map((record) => publicView(record, now));
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const found = await this.repo().findEndpoint(tenantId, id);
    if (!found) throw notFound('webhook');
    return publicView(found, this.now());
  }

  /** Each endpoint's health, by endpoint id (one aggregate read for the tenant). */
  async health(tenantId: string, endpoints: WebhookEndpoint[]): Promise<Map<string, WebhookHealth>> {
    const since = new Date(this.context.clock.now().getTime() - HEALTH_WINDOW_MS).toISOString();
    const recent = await this.repo().recentOutcomes(tenantId, since);
    return new Map(endpoints.map((endpoint) => [endpoint.id, healthOf(endpoint, recent.get(endpoint.id))]));
  }

  /**
   * Queues a `webhook.test` event for one endpoint: it goes out through the delivery job like any
   * other (signed, retried, listed with the deliveries), so it proves the whole path.
   */
  async sendTest(tenantId: string, id: string, actor: Actor): Promise<WebhookDelivery> {
    const now = this.now();
    return this.context.store.transaction(async (repositories) => {
      const repo = this.repo(repositories);
      const endpoint = await repo.findEndpoint(tenantId, id);
      if (!endpoint) throw notFound('webhook');
      if (!endpoint.enabled) throw new AppError('INVALID_STATE', 'the endpoint is disabled: enable it before sending a test event');
      const event = await recordEvent(this.context, repositories, {
        tenantId,
        event: 'webhook.test_requested',
        actor,
        occurredAt: now,
        targetType: 'webhook',
        targetId: id,
        details: { url: endpoint.url },
      });
      const deliveryId = newDeliveryId();
      const payload = JSON.stringify({
        type: TEST_WEBHOOK_TYPE,
        timestamp: now,
        data: { tenant_id: tenantId, webhook_id: id, event_id: event.id, test: true },
      });
      await repo.insertDelivery({
        id: deliveryId,
        endpointId: id,
        tenantId,
        eventType: TEST_WEBHOOK_TYPE,
        auditEventId: event.id,
        payload,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      });
      const queued = await repo.findDelivery(tenantId, deliveryId);
      if (!queued) throw notFound('webhook delivery');
      return queued;
    });
  }

  /**
   * A new signing secret, returned once. The old one keeps signing beside it (two `v1,`
   * signatures in webhook-signature) for `overlapSeconds`, so receivers can switch without
   * dropping a delivery; 0 stops it at once (a leaked secret).
   */
  async rotateSecret(tenantId: string, id: string, overlapSeconds: number, actor: Actor): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = generateSigningSecret();
    const sealed = sealSecret(this.rootKeys, tenantId, id, secret);
    const nowDate = this.context.clock.now();
    const now = nowDate.toISOString();
    const previousExpiresAt = overlapSeconds > 0 ? new Date(nowDate.getTime() + overlapSeconds * 1000).toISOString() : null;
    const endpoint = await this.context.store.transaction(async (repositories) => {
      const updated = await this.repo(repositories).replaceSecret(tenantId, id, sealed, now, previousExpiresAt);
      if (!updated) throw notFound('webhook');
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'webhook.secret_rotated',
        actor,
        occurredAt: now,
        severity: 'warning',
        targetType: 'webhook',
        targetId: id,
        details: { overlap_seconds: overlapSeconds, previous_secret_expires_at: previousExpiresAt },
      });
      return updated;
    });
    return { endpoint: publicView(endpoint, now), secret };
  }

  async update(tenantId: string, id: string, changes: UpdateWebhookInput, actor: Actor): Promise<WebhookEndpoint> {
    const events = changes.events === undefined ? undefined : this.checkEvents(changes.events);
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const now = this.now();
    return this.context.store.transaction(async (repositories) => {
      const updated = await this.repo(repositories).updateEndpoint(tenantId, id, {
        updatedAt: now,
        ...(changes.url !== undefined ? { url: changes.url } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(events !== undefined ? { events } : {}),
        ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
      });
      if (!updated) throw notFound('webhook');
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'webhook.updated',
        actor,
        occurredAt: now,
        targetType: 'webhook',
        targetId: id,
        details: { fields: Object.keys(changes).sort(), url: updated.url, events: updated.events, enabled: updated.enabled },
      });
      return publicView(updated, now);
    });
  }

  async remove(tenantId: string, id: string, actor: Actor): Promise<void> {
    await this.context.store.transaction(async (repositories) => {
      if (!(await this.repo(repositories).deleteEndpoint(tenantId, id))) throw notFound('webhook');
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'webhook.deleted',
        actor,
        occurredAt: this.now(),
        targetType: 'webhook',
        targetId: id,
      });
    });
  }

  async deliveries(tenantId: string, endpointId: string, status: DeliveryStatus | undefined, request: PageRequest): Promise<Page<WebhookDelivery>> {
    await this.get(tenantId, endpointId);
    return this.repo().listDeliveries(tenantId, endpointId, status, request);
  }

  /** Sends a delivery again, keeping its webhook-id; the retry schedule starts afresh. */
  async redeliver(tenantId: string, deliveryId: string, actor: Actor): Promise<WebhookDelivery> {
    const now = this.now();
    return this.context.store.transaction(async (repositories) => {
      const requeued = await this.repo(repositories).requeue(tenantId, deliveryId, now);
      if (!requeued) throw notFound('webhook delivery');
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'webhook.redelivery_requested',
        actor,
        occurredAt: now,
        targetType: 'webhook_delivery',
        targetId: deliveryId,
        details: { endpoint_id: requeued.endpointId, event_type: requeued.eventType },
      });
      return requeued;
    });
  }

  signingSecret(endpoint: WebhookEndpointRecord): string {
    return openSecret(this.rootKeys, endpoint.tenantId, endpoint.id, {
      ciphertext: endpoint.secretCiphertext,
      nonce: endpoint.secretNonce,
      rootKeyVersion: endpoint.rootKeyVersion,
    });
  }

  /** The secrets a delivery is signed with now: the current one, and the previous one during its overlap. */
  signingSecrets(endpoint: WebhookEndpointRecord, at: Date): string[] {
    const secrets = [this.signingSecret(endpoint)];
    const previous = endpoint.previousSecret;
    if (previous && previous.expiresAt > at.toISOString()) secrets.push(openSecret(this.rootKeys, endpoint.tenantId, endpoint.id, previous));
    return secrets;
  }
}
