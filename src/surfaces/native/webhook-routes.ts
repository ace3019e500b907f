// Webhook endpoints of a tenant and their deliveries (admin or tenant bearer; other tenants look like 404).
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { AppError } from '../../errors.js';
import type { DeliveryStatus, WebhookDelivery } from '../../storage/repositories/webhooks.js';
import { WEBHOOK_TYPES } from '../../webhooks/events.js';
import { DEFAULT_SECRET_OVERLAP_SECONDS, healthOf, type WebhookEndpoint, type WebhookHealth } from '../../webhooks/service.js';
import { readEmptyBodyAsObject } from '../empty-body.js';
import { actorOf, requirePrincipal, requireTenant } from '../authentication.js';
import { presentPage } from './presenters.js';
import { PageQuery, Uuid } from './schemas.js';
import type { App } from './types.js';
import { DeliveryReply, IssuedWebhookReply, ListOf, NoContent, PageOf, replies, WebhookReply } from './replies.js';

const Url = Type.String({ minLength: 8, maxLength: 2000, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' });
const Events = Type.Array(Type.Union(WEBHOOK_TYPES.map((t) => Type.Literal(t))), { maxItems: WEBHOOK_TYPES.length, uniqueItems: true });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
const TenantParams = Type.Object({ tenantId: Uuid }, { additionalProperties: false });
const WebhookParams = Type.Object({ tenantId: Uuid, webhookId: Uuid }, { additionalProperties: false });
const DeliveryParams = Type.Object(
  { tenantId: Uuid, deliveryId: Type.String({ minLength: 1, maxLength: 64, pattern: '^msg_[0-9a-f]+$' }) },
  { additionalProperties: false },
);

export function presentWebhook(endpoint: WebhookEndpoint, health: WebhookHealth = healthOf(endpoint, undefined)) {
  return {
    id: endpoint.id,
    tenant_id: endpoint.tenantId,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
    secret_rotated_at: endpoint.secretRotatedAt,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt,
    health: {
      state: health.state,
      attempted_24h: health.attempted24h,
      success_rate_24h: health.successRate24h,
      last_success_at: health.lastSuccessAt,
      last_failure_at: health.lastFailureAt,
      last_failure_error: health.lastFailureError,
      consecutive_failures: health.consecutiveFailures,
    },
  };
}

export function presentDelivery(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    webhook_id: delivery.endpointId,
    event_type: delivery.eventType,
    event_id: delivery.auditEventId,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
    last_attempt_at: delivery.lastAttemptAt,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
    payload: JSON.parse(delivery.payload) as unknown,
  };
}

export function registerWebhookRoutes(app: App, services: Services): void {
  const webhooks = () => services.webhooks;

  async function withHealth(tenantId: string, endpoint: WebhookEndpoint) {
    return presentWebhook(endpoint, (await webhooks().health(tenantId, [endpoint])).get(endpoint.id));
  }

  /** Admins and tenant-wide bearer tokens; a login-bound bearer token manages only its login's keys. */
  async function authorize(request: FastifyRequest, tenantId: string): Promise<void> {
    const principal = await requirePrincipal(services, request, ['admin', 'bearer']);
    await requireTenant(services, principal, tenantId);
    if (principal.type === 'bearer' && principal.loginId) throw new AppError('FORBIDDEN', 'a login-bound token cannot manage webhooks');
  }

  app.get(
    '/api/v1/tenants/:tenantId/webhooks',
    {
      config: { action: 'webhooks.read' },
      schema: { response: replies({ 200: ListOf(WebhookReply) }), tags: ['webhooks'], summary: 'List webhook endpoints', params: TenantParams },
    },
    async (request) => {
      await authorize(request, request.params.tenantId);
      const endpoints = await webhooks().list(request.params.tenantId);
      const health = await webhooks().health(request.params.tenantId, endpoints);
      return { data: endpoints.map((endpoint) => presentWebhook(endpoint, health.get(endpoint.id))) };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/webhooks',
    {
      config: { action: 'webhooks.write' },
      schema: {
        response: replies({ 201: IssuedWebhookReply }),
        tags: ['webhooks'],
        summary: `Create a webhook endpoint; the signing secret (whsec_...) is returned once. Event types: ${WEBHOOK_TYPES.join(', ')} (none = all)`,
        params: TenantParams,
        body: Type.Object(
          { url: Url, events: Type.Optional(Events), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      await authorize(request, request.params.tenantId);
      const { endpoint, secret } = await webhooks().create(
        {
          tenantId: request.params.tenantId,
          url: request.body.url,
          ...(request.body.events ? { events: request.body.events } : {}),
          ...(request.body.description !== undefined ? { description: request.body.description } : {}),
          ...(request.body.enabled !== undefined ? { enabled: request.body.enabled } : {}),
        },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...presentWebhook(endpoint), secret });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/webhooks/:webhookId',
    {
      config: { action: 'webhooks.read' },
      schema: { response: replies({ 200: WebhookReply }), tags: ['webhooks'], summary: 'Get a webhook endpoint', params: WebhookParams },
    },
    async (request) => {
      await authorize(request, request.params.tenantId);
      return withHealth(request.params.tenantId, await webhooks().get(request.params.tenantId, request.params.webhookId));
    },
  );

  app.patch(
    '/api/v1/tenants/:tenantId/webhooks/:webhookId',
    {
      config: { action: 'webhooks.write' },
      schema: {
        response: replies({ 200: WebhookReply }),
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint (url, events, description, enabled)',
        params: WebhookParams,
        body: Type.Object(
          { url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
    },
    async (request) => {
      await authorize(request, request.params.tenantId);
      const body = request.body;
      const updated = await webhooks().update(
        request.params.tenantId,
        request.params.webhookId,
        {
          ...(body.url !== undefined ? { url: body.url } : {}),
          ...(body.events !== undefined ? { events: body.events } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        },
        actorOf(request),
      );
      return withHealth(request.params.tenantId, updated);
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/webhooks/:webhookId',
    {
      config: { action: 'webhooks.write' },
      schema: { response: replies({ 204: NoContent }), tags: ['webhooks'], summary: 'Delete a webhook endpoint and its deliveries', params: WebhookParams },
    },
    async (request, reply) => {
      await authorize(request, request.params.tenantId);
      await webhooks().remove(request.params.tenantId, request.params.webhookId, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/webhooks/:webhookId/deliveries',
    {
      config: { action: 'webhooks.read' },
      schema: {
        response: replies({ 200: PageOf(DeliveryReply) }),
        tags: ['webhooks'],
        summary: 'List deliveries of a webhook endpoint (newest first)',
        params: WebhookParams,
        querystring: Type.Object(
          { ...PageQuery.properties, status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')])) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      await authorize(request, request.params.tenantId);
      const q = request.query;
      const page = await webhooks().deliveries(request.params.tenantId, request.params.webhookId, q.status as DeliveryStatus | undefined, {
        page: q.page,
        perPage: q.per_page,
      });
      return presentPage(page, presentDelivery);
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/webhooks/:webhookId/test',
    {
      config: { action: 'webhooks.write' },
      schema: {
        response: replies({ 202: DeliveryReply }),
        tags: ['webhooks'],
        summary: 'Send a webhook.test event to this endpoint (signed and retried like any delivery; listed with its deliveries)',
        params: WebhookParams,
      },
    },
    async (request, reply) => {
      await authorize(request, request.params.tenantId);
      const delivery = await webhooks().sendTest(request.params.tenantId, request.params.webhookId, actorOf(request));
      return reply.status(202).send(presentDelivery(delivery));
    },
  );

  // The overlap is optional: no body, or an empty JSON one, means the default.
  void app.register(async (scoped: App) => {
    readEmptyBodyAsObject(scoped);
    scoped.post(
      '/api/v1/tenants/:tenantId/webhooks/:webhookId/rotate-secret',
      {
        config: { action: 'webhooks.write' },
        schema: {
          response: replies({ 200: IssuedWebhookReply }),
          tags: ['webhooks'],
          summary:
            'Replace the signing secret (the new one is returned once). The old secret keeps signing beside it for overlap_seconds ' +
            `(default ${DEFAULT_SECRET_OVERLAP_SECONDS}, at most 604800; 0 ends it at once): deliveries then carry two v1 signatures`,
          params: WebhookParams,
          body: Type.Optional(
            Type.Object({ overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400 })) }, { additionalProperties: false }),
          ),
        },
      },
      async (request, reply) => {
        await authorize(request, request.params.tenantId);
        const overlap = request.body?.overlap_seconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
        const { endpoint, secret } = await webhooks().rotateSecret(request.params.tenantId, request.params.webhookId, overlap, actorOf(request));
        reply.header('cache-control', 'no-store');
        return { ...(await withHealth(request.params.tenantId, endpoint)), secret };
      },
    );
  });

  app.post(
    '/api/v1/tenants/:tenantId/webhook-deliveries/:deliveryId/redeliver',
    {
      config: { action: 'webhooks.write' },
      schema: {
        response: replies({ 202: DeliveryReply }),
        tags: ['webhooks'],
        summary: 'Send a delivery again (same webhook-id, fresh retry schedule)',
        params: DeliveryParams,
      },
    },
    async (request, reply) => {
      await authorize(request, request.params.tenantId);
      const delivery = await webhooks().redeliver(request.params.tenantId, request.params.deliveryId, actorOf(request));
      return reply.status(202).send(presentDelivery(delivery));
    },
  );
}
