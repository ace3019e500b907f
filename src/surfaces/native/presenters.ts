// Domain records -> native JSON (snake_case). Secrets never pass through here.
import type { Static } from 'typebox';
import { stateOf } from '../../domain/credential-state.js';
import {
  type ApiToken,
  type AuditEvent,
  type AutoHoldSettings,
  type Credential,
  DEFAULT_AUTO_HOLD,
  type Login,
  type ProtocolConnection,
  type SendingLimits,
  type Tenant,
} from '../../domain/types.js';
import type { AuditEventReply, CredentialReply, LoginReply, TenantReply, TokenReply } from './replies.js';

/** The native `status`: a revoked credential reads `revoked` even inside its grace period. */
export function credentialStatus(credential: Credential, now: string): 'active' | 'held' | 'revoked' | 'expired' {
  if (credential.status === 'revoked') return 'revoked';
  const state = stateOf(credential, now);
  return state === 'grace' ? 'revoked' : state;
}

export function presentCredential(credential: Credential, now: string): Static<typeof CredentialReply> {
  return {
    id: credential.id,
    tenant_id: credential.tenantId,
    login_id: credential.loginId,
    name: credential.name,
    kind: credential.kind,
    surface: credential.surface,
    scopes: credential.scopes,
    role: credential.role,
    key_hint: credential.keyHint,
    public_key: credential.publicKey,
    status: credentialStatus(credential, now),
    held: credential.held,
    expires_at: credential.expiresAt,
    allowed_networks: credential.allowedNetworks,
    // null: the default (the login's address and aliases; unbound: the tenant's domains).
    allowed_senders: credential.allowedSenders,
    sending_limits: presentSendingLimits(credential.sendingLimits),
    metadata: credential.metadata,
    replaces_id: credential.replacesId,
    revoked_at: credential.revokedAt,
    revoked_reason: credential.revokedReason,
    grace_until: credential.graceUntil,
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
    last_used_at: credential.lastUsedAt,
  };
}

export function presentSendingLimits(limits: SendingLimits | null | undefined) {
  if (!limits) return null;
  return {
    messages_per_hour: limits.messagesPerHour ?? null,
    messages_per_day: limits.messagesPerDay ?? null,
    recipients_per_message: limits.recipientsPerMessage ?? null,
    recipients_per_day: limits.recipientsPerDay ?? null,
  };
}

export type SendingLimitsBody = { messages_per_hour?: number; messages_per_day?: number; recipients_per_message?: number; recipients_per_day?: number };

export function toSendingLimits(body: SendingLimitsBody | null | undefined): SendingLimits | null | undefined {
  if (body === undefined || body === null) return body;
  const limits: SendingLimits = {};
  if (body.messages_per_hour !== undefined) limits.messagesPerHour = body.messages_per_hour;
  if (body.messages_per_day !== undefined) limits.messagesPerDay = body.messages_per_day;
  if (body.recipients_per_message !== undefined) limits.recipientsPerMessage = body.recipients_per_message;
  if (body.recipients_per_day !== undefined) limits.recipientsPerDay = body.recipients_per_day;
  return limits;
}

function presentConnection(connection: ProtocolConnection) {
  return { server_name: connection.serverName, port: connection.port, secure_port: connection.securePort, enabled: connection.enabled };
}

export function presentTenant(tenant: Tenant): Static<typeof TenantReply> {
  return {
    id: tenant.id,
    name: tenant.name,
    domain: tenant.domain,
    webmail_url: tenant.webmailUrl,
    connection_info: {
      smtp: presentConnection(tenant.connectionInfo.smtp),
      imap: presentConnection(tenant.connectionInfo.imap),
      pop3: presentConnection(tenant.connectionInfo.pop3),
    },
    mail_backends: tenant.mailBackends,
    settings: {
      inactivity_days: tenant.settings.inactivityDays ?? null,
      inactivity_days_by_role: tenant.settings.inactivityDaysByRole ?? {},
      sending_limits: presentSendingLimits(tenant.settings.sendingLimits),
      default_allowed_senders: tenant.settings.defaultAllowedSenders ?? null,
      auto_hold: presentAutoHold(tenant.settings.autoHold),
    },
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  };
}

export function presentLogin(login: Login): Static<typeof LoginReply> {
  return { id: login.id, tenant_id: login.tenantId, address: login.address, created_at: login.createdAt };
}

export function presentToken(token: ApiToken): Static<typeof TokenReply> {
  return {
    id: token.id,
    kind: token.kind,
    tenant_id: token.tenantId,
    login_id: token.loginId,
    name: token.name,
    key_hint: token.keyHint,
    created_at: token.createdAt,
    revoked_at: token.revokedAt,
    last_used_at: token.lastUsedAt ?? null,
  };
}

export function presentAuditEvent(event: AuditEvent): Static<typeof AuditEventReply> {
  return {
    id: event.id,
    seq: event.seq,
    tenant_id: event.tenantId,
    event: event.event,
    actor: { type: event.actorType, id: event.actorId },
    occurred_at: event.occurredAt,
    client_ip: event.clientIp,
    severity: event.severity,
    target: event.targetType ? { type: event.targetType, id: event.targetId } : null,
    details: event.details,
    hash: event.hash,
  };
}

export function presentPage<T, R>(page: { items: T[]; page: number; perPage: number; total: number }, map: (item: T) => R) {
  return { data: page.items.map(map), pagination: { page: page.page, per_page: page.perPage, total: page.total } };
}

export function presentAutoHold(settings: AutoHoldSettings | undefined) {
  const effective = { ...DEFAULT_AUTO_HOLD, ...settings };
  return { enabled: effective.enabled, quota_multiple: effective.quotaMultiple, max_new_countries_per_hour: effective.maxNewCountriesPerHour };
}
