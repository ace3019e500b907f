// The one table from audit events to webhook types, and the payloads they carry (ids, never secrets).
import type { AuditEvent } from '../domain/types.js';

interface Mapping {
  types: string[];
  /** Optional refinement by the event's details. */
  when?: (event: AuditEvent) => boolean;
}

/**
 * Audit event name -> webhook types. `credential.locked` is seed 001's CredentialLocked: any
 * change after which a credential no longer works (hold, revoke, regenerate). A rotation
 * records `credential.revoked` (reason "rotated") for the old key and `credential.rotated`;
 * only the latter announces the lock, so a rotation locks exactly once.
 */
export const WEBHOOK_EVENT_MAP: Record<string, Mapping[]> = {
  'credential.created': [{ types: ['credential.created'] }],
  'credential.held': [{ types: ['credential.locked'] }],
  'credential.revoked': [{ types: ['credential.revoked'] }, { types: ['credential.locked'], when: (event) => event.details.reason !== 'rotated' }],
  'credential.rotated': [{ types: ['credential.rotated', 'credential.locked'] }],
  'credential.expired': [{ types: ['credential.expired'] }],
  'credential.inactivity_warning': [{ types: ['credential.inactivity_warning'] }],
  smtp_credentials_rotated: [{ types: ['smtp_credentials.rotated'] }],
  smtp_credentials_emergency_reset: [{ types: ['smtp_credentials.emergency_reset'] }],
};

/** Sent by the audit-checkpoint job, not by an audit event: a signed checkpoint of the tenant's chain head. */
export const CHECKPOINT_WEBHOOK_TYPE = 'audit.checkpoint';

export const WEBHOOK_TYPES: string[] = [
  ...new Set([...Object.values(WEBHOOK_EVENT_MAP).flatMap((m) => m.flatMap((x) => x.types)), CHECKPOINT_WEBHOOK_TYPE]),
].sort();

export function webhookTypesFor(event: AuditEvent): string[] {
  const mappings = WEBHOOK_EVENT_MAP[event.event];
  if (!mappings) return [];
  return mappings.filter((m) => !m.when || m.when(event)).flatMap((m) => m.types);
}

/** Detail fields that may travel in a payload: identifiers and reasons, nothing secret. */
const PAYLOAD_DETAIL_FIELDS = [
  'reason',
  'trigger',
  'surface',
  'kind',
  'login_id',
  'replaces_id',
  'new_credential_id',
  'grace_until',
  'expires_at',
  'inactive_since',
  'revokes_at',
  'incident_id',
  'secret_version',
] as const;

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export function buildPayload(type: string, event: AuditEvent): WebhookPayload {
  const data: Record<string, unknown> = { tenant_id: event.tenantId, event_id: event.id };
  // Increasing per tenant in commit order (gaps where events send no webhook): receivers order by it.
  if (event.chainPosition !== undefined) data.sequence = event.chainPosition;
  if (event.targetType && event.targetId) data[`${event.targetType}_id`] = event.targetId;
  for (const field of PAYLOAD_DETAIL_FIELDS) {
    const value = event.details[field];
    if (value !== undefined && (value === null || ['string', 'number', 'boolean'].includes(typeof value))) data[field] = value;
  }
  return { type, timestamp: event.occurredAt, data };
}
