// Webhook endpoints of a tenant: create (secret shown once), list, change, delete; deliveries
// listed and redelivered. Every change is audited in its own transaction.
import { randomUUID } from 'node:crypto';
import type { RootKeyRing } from '../crypto/root-secret.js';
import { type DomainContext, recordEvent } from '../domain/context.js';
import type { Actor, Page, PageRequest } from '../domain/types.js';
import { AppError, notFound } from '../errors.js';
import { type DeliveryStatus, type WebhookDelivery, type WebhookEndpointRecord, WebhookRepository } from '../storage/repositories/webhooks.js';
import type { Repositories } from '../storage/store.js';
import { WEBHOOK_TYPES } from './events.js';
import { generateSigningSecret, openSecret, sealSecret } from './secrets.js';
import { resolvedProblem } from './target-safety.js';

export type WebhookEndpoint = Omit<WebhookEndpointRecord, 'secretCiphertext' | 'secretNonce' | 'rootKeyVersion'>;

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

function publicView(record: WebhookEndpointRecord): WebhookEndpoint {
  const { secretCiphertext: _c, secretNonce: _n, rootKeyVersion: _v, ...rest } = record;
  return rest;
}

export class WebhookService {
  constructor(
    private readonly context: DomainContext,
    private readonly rootKeys: RootKeyRing,
    private readonly allowNetworks: readonly string[],
  ) {}

  private repo(repositories: Repositories = this.context.store): WebhookRepository {
    return new WebhookRepository(repositories.db, repositories.dialect);
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
    return (await this.repo().listEndpoints(tenantId)).map(publicView);
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const found = await this.repo().findEndpoint(tenantId, id);
    if (!found) throw notFound('webhook');
    return publicView(found);
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
      return publicView(updated);
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
}
