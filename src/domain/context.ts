// What every domain service is built with: storage, time, secret hashing and change signals.
import type { Clock } from '../clock.js';
import type { AuditKeys } from '../crypto/audit-keys.js';
import type { SecretHasher } from '../crypto/hashing.js';
import type { Repositories, Store } from '../storage/store.js';
import { type AuditInput, appendAudit } from './audit.js';
import type { AuditEvent } from './types.js';

/** Called after a commit that changes whether some secrets verify (hold, revoke, rotate...). */
export type CredentialChangeListener = (change: { keyHashes: string[]; tenantId: string }) => void;

/** Called after a commit that changes where a tenant's logins are sent (mail_backends). */
export type TenantChangeListener = (change: { tenantId: string }) => void;

/** Runs inside the transaction of every recorded event (e.g. the webhook outbox). */
export type RecordedEventHook = (repositories: Repositories, event: AuditEvent) => Promise<void>;

export interface DomainContext {
  store: Store;
  clock: Clock;
  hashSecret: SecretHasher;
  onCredentialChange: CredentialChangeListener[];
  onTenantChange: TenantChangeListener[];
  onRecordedEvent: RecordedEventHook[];
  /** Called after a commit that revokes a token or an admin session (the change feed listens). */
  onAccessChange?: Array<() => void>;
  /** Keys the audit chain (HMAC); without it (domain unit tests) events are chained with plain SHA-256. */
  auditKeys?: AuditKeys;
}

export function announceCredentialChange(context: DomainContext, tenantId: string, keyHashes: string[]): void {
  for (const listener of context.onCredentialChange) listener({ tenantId, keyHashes });
}

export function announceTenantChange(context: DomainContext, tenantId: string): void {
  for (const listener of context.onTenantChange) listener({ tenantId });
}

/** Appends the audit event and runs the in-transaction hooks; call it inside the change's transaction. */
export async function recordEvent(context: DomainContext, repositories: Repositories, input: AuditInput): Promise<AuditEvent> {
  const event = await appendAudit(repositories, input, context.auditKeys);
  for (const hook of context.onRecordedEvent) await hook(repositories, event);
  return event;
}
