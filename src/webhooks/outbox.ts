// The outbox: inside the transaction of every recorded event, one pending delivery row per
// (webhook type, subscribed endpoint). A committed change therefore always has its deliveries;
// a rolled-back one never does.
import { randomUUID } from 'node:crypto';
import type { RecordedEventHook } from '../domain/context.js';
import { buildPayload, webhookTypesFor } from './events.js';

export function newDeliveryId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export const writeOutbox: RecordedEventHook = async (repositories, event) => {
  if (!event.tenantId) return;
  const types = webhookTypesFor(event);
  if (types.length === 0) return;
  const webhooks = repositories.webhooks;
  const endpoints = await webhooks.listEndpoints(event.tenantId, { enabledOnly: true });
  for (const type of types) {
    const payload = JSON.stringify(buildPayload(type, event));
    for (const endpoint of endpoints) {
      if (endpoint.events.length > 0 && !endpoint.events.includes(type)) continue;
      await webhooks.insertDelivery({
        id: newDeliveryId(),
        endpointId: endpoint.id,
        tenantId: event.tenantId,
        eventType: type,
        auditEventId: event.id,
        payload,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: event.occurredAt,
        createdAt: event.occurredAt,
        subject: event.targetType && event.targetId ? `${event.targetType}:${event.targetId}` : null,
        sequence: event.chainPosition ?? null,
      });
    }
  }
};
