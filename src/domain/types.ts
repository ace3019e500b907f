// Domain records as the services see them: camelCase, parsed JSON, booleans.
import type { Role, Scope } from './scopes.js';

export type Surface = 'native' | 'seed001' | 'seed002' | 'seed003' | 'smtp_account';
export type CredentialKind = 'SMTP' | 'API';
export type Severity = 'info' | 'warning' | 'critical';
export type CredentialStatus = 'active' | 'revoked';

export interface ProtocolConnection {
  serverName: string;
  port: number;
  securePort: number;
  enabled: boolean;
}

export interface ConnectionInfo {
  smtp: ProtocolConnection;
  pop3: ProtocolConnection;
  imap: ProtocolConnection;
}

export type MailBackends = Partial<Record<'smtp' | 'imap' | 'pop3', string>>;

/** Quotas of a credential or a tenant (issue 25); a missing field has no limit. */
export interface SendingLimits {
  messagesPerHour?: number;
  messagesPerDay?: number;
  recipientsPerMessage?: number;
  recipientsPerDay?: number;
}

export interface TenantSettings {
  inactivityDays?: number;
  inactivityDaysByRole?: Partial<Record<Role, number>>;
  /** Default quotas, per field, of every credential that sets none of its own (not a cap on the tenant as a whole). */
  sendingLimits?: SendingLimits;
  /** Allowed senders of a credential bound to no login that names none (default: any address in the tenant's domains). */
  defaultAllowedSenders?: string[];
  /** Hold a credential at once when it misbehaves (off by default; domain/abuse-watch.ts). */
  autoHold?: AutoHoldSettings;
}

export interface AutoHoldSettings {
  enabled: boolean;
  /** Held when attempts in a window (sent plus deferred over quota) pass this multiple of a quota. */
  quotaMultiple: number;
  /** Held when it sends from more countries it had not been seen in before, within an hour; null: not checked. */
  maxNewCountriesPerHour: number | null;
}

export const DEFAULT_AUTO_HOLD: AutoHoldSettings = { enabled: false, quotaMultiple: 3, maxNewCountriesPerHour: null };

export interface Tenant {
  id: string;
  name: string;
  domain: string | null;
  webmailUrl: string | null;
  connectionInfo: ConnectionInfo;
  mailBackends: MailBackends | null;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
}

export interface Login {
  id: string;
  tenantId: string;
  address: string;
  createdAt: string;
}

export interface Credential {
  numId: number;
  /** The credential's number within its tenant (1, 2, ...): seed 001's integer id. */
  tenantNum: number;
  id: string;
  tenantId: string;
  loginId: string | null;
  surface: Surface;
  kind: CredentialKind;
  name: string;
  scopes: Scope[];
  role: Role | null;
  publicKey: string | null;
  keyHash: string;
  keyHint: string;
  held: boolean;
  status: CredentialStatus;
  revokedAt: string | null;
  revokedReason: string | null;
  graceUntil: string | null;
  expiresAt: string | null;
  allowedNetworks: string[] | null;
  /** Addresses and `@domain` entries it may send as; null: the default (domain/sending-policy.ts). */
  allowedSenders: string[] | null;
  /** Quota overrides; null: the tenant's. */
  sendingLimits: SendingLimits | null;
  metadata: Record<string, string>;
  replacesId: string | null;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
}

export type TokenKind = 'bearer' | 'server' | 'verifier';

export interface ApiToken {
  id: string;
  kind: TokenKind;
  tenantId: string | null;
  loginId: string | null;
  name: string;
  keyHint: string;
  createdAt: string;
  revokedAt: string | null;
  /** Written at most once a minute per node (an authentication that missed the token cache). */
  lastUsedAt?: string | null;
}

/** An owner may also manage admins (create, disable, enable); an admin may do everything else. */
export type AdminRole = 'owner' | 'admin';
export const ADMIN_ROLES: readonly AdminRole[] = ['owner', 'admin'];

export interface Admin {
  id: string;
  email: string;
  passwordHash: string;
  totpSecret: string | null;
  createdAt: string;
  role: AdminRole;
  /** Set while disabled: no sign-in and no session. */
  disabledAt: string | null;
  /** A sealed TOTP secret being enrolled, active once a code from it is confirmed. */
  totpPendingSecret: string | null;
}

export interface AdminSession {
  id: string;
  adminId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  clientIp: string | null;
}

/** Who did something: recorded on every audit event. */
export interface Actor {
  type: 'admin' | 'token' | 'system' | 'cli';
  id: string;
  ip: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'system', ip: null };
export const CLI_ACTOR: Actor = { type: 'cli', id: 'cli', ip: null };

export interface AuditEvent {
  seq: number;
  id: string;
  chain: string;
  tenantId: string | null;
  event: string;
  actorType: string;
  actorId: string;
  occurredAt: string;
  clientIp: string | null;
  severity: Severity;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /**
   * Set on the event just recorded: its place in its chain (1, 2, ...: per tenant, in commit
   * order, since the chain head is locked). Webhook payloads carry it as `sequence`.
   */
  chainPosition?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  perPage: number;
}

export interface PageRequest {
  page: number;
  perPage: number;
}
