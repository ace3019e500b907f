// The database described once; every query is checked against these tables.
// Timestamps are ISO-8601 UTC strings, booleans 0/1 integers, JSON columns text: the same
// on SQLite and PostgreSQL.
import type { Generated } from 'kysely';
import type { Role } from '../domain/scopes.js';
import type { CredentialKind, CredentialStatus, Severity, Surface, TokenKind } from '../domain/types.js';

// Enum columns carry their literal types, so a row is a domain value without a cast.

export interface TenantsTable {
  id: string;
  name: string;
  domain: string | null;
  webmail_url: string | null;
  connection_info: string; // JSON: { smtp|imap|pop3: { serverName, port, securePort, enabled } }
  mail_backends: string | null; // JSON: { smtp|imap|pop3: "ip:port" }
  settings: string; // JSON: inactivity days, ...
  /** The last credentials.tenant_num handed out in this tenant. */
  credential_count: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface LoginsTable {
  id: string;
  tenant_id: string;
  address: string;
  created_at: string;
}

export interface TenantDomainsTable {
  domain: string; // canonical: lower case, IDNA A-labels, no trailing dot
  tenant_id: string;
  created_at: string;
}

export interface LoginAliasesTable {
  address: string; // canonical, unique platform-wide
  tenant_id: string;
  login_id: string;
  created_at: string;
}

export interface CredentialsTable {
  num_id: Generated<number>;
  id: string;
  tenant_id: string;
  /** Numbered per tenant from 1 (tenants.credential_count); seed 001 shows it as the integer id. */
  tenant_num: number | null;
  login_id: string | null;
  surface: Surface;
  kind: CredentialKind;
  name: string;
  scopes: string; // JSON array
  role: Role | null;
  public_key: string | null; // seed 003 Key: a visible identifier used as the login name
  key_hash: string;
  key_hint: string;
  held: number;
  status: CredentialStatus;
  revoked_at: string | null;
  revoked_reason: string | null;
  grace_until: string | null;
  expires_at: string | null;
  allowed_networks: string | null; // JSON array of CIDRs
  allowed_senders: string | null; // JSON array of addresses and @domain entries; NULL: the default
  sending_limits: string | null; // JSON object of quota overrides; NULL: the tenant's
  metadata: string; // JSON object
  replaces_id: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  kind: TokenKind;
  tenant_id: string | null;
  login_id: string | null;
  name: string;
  key_hash: string;
  key_hint: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AdminsTable {
  id: string;
  email: string;
  password_hash: string;
  totp_secret: string | null;
  created_at: string;
  /** The TOTP time step last accepted (a code is accepted once); null before the first. */
  totp_last_step: number | string | null;
  /** 'owner' (may manage admins) or 'admin'. */
  role: Generated<string>;
  /** Set while the admin is disabled: no sign-in, no session. */
  disabled_at: string | null;
  /** A sealed TOTP secret being enrolled: active once a code from it is confirmed. */
  totp_pending_secret: string | null;
}

export interface AdminSessionsTable {
  id: string;
  admin_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  client_ip: string | null;
}

export interface ReauthTokensTable {
  id: string;
  session_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  id: string;
  chain: string; // tenant id, or "platform"
  tenant_id: string | null;
  event: string;
  actor_type: string; // admin | token | system | cli
  actor_id: string;
  occurred_at: string;
  client_ip: string | null;
  severity: Severity;
  target_type: string | null;
  target_id: string | null;
  details: string; // JSON, never secrets
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadsTable {
  chain: string;
  last_hash: string;
  event_count: number;
  /** HMAC of (chain, last_hash, event_count, legacy_events) under the audit key; null until sealed. */
  head_mac: string | null;
  /** Events written before the chain was keyed (plain SHA-256). */
  legacy_events: Generated<number>;
}

export interface AuditCheckpointsTable {
  id: string;
  /** ISO start of the checkpoint interval; unique, so one node of a cluster writes each. */
  slot: string;
  created_at: string;
  key_version: number;
  /** JSON [{chain, count, last_hash}] in chain order. */
  heads: string;
  /** Ed25519 over the checkpoint's signed material, base64url. */
  signature: string;
}

export interface SmtpAccountsTable {
  id: string;
  tenant_id: string;
  username: string;
  credential_id: string;
  ciphertext: string; // base64
  nonce: string; // base64
  data_key_version: number;
  secret_version: number;
  created_at: string;
  last_rotated: string;
  next_rotation: string;
  checkout_expires_at: string | null;
  checkout_admin_id: string | null;
  updated_at: string;
}

export interface TenantDataKeysTable {
  tenant_id: string;
  version: number;
  wrapped_key: string; // base64 of nonce|tag|ciphertext under the root-derived KEK
  root_key_version: number;
  created_at: string;
}

export interface IncidentResetsTable {
  tenant_id: string;
  incident_id: string;
  created_at: string;
  response: string; // JSON of the non-secret part of the first reset's answer
}

export interface CredentialSessionsTable {
  id: string;
  credential_id: string;
  tenant_id: string;
  ip_address: string;
  raw_user_agent: string;
  user_agent_family: string;
  user_agent_version: string;
  user_agent_major_version: string;
  os_family: string;
  os_version: string;
  device_family: string;
  device_brand: string;
  device_type: string;
  country: string;
  country_iso_code: string;
  protocol: string;
  is_active: number;
  created_at: string;
  modified_at: string;
  last_seen_at: string;
}

export interface JobRunsTable {
  id: string;
  job: string;
  node_id: string;
  started_at: string;
  duration_ms: number;
  items: number;
  outcome: string; // ok | error
  error: string | null; // a message, never a secret
}

export interface LifecycleNoticesTable {
  credential_id: string;
  notice: string; // expired | inactivity_warning
  subject: string; // what the notice was about (e.g. the last-activity time it warned of)
  created_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  events: string; // JSON array of webhook types; empty = all
  secret_ciphertext: string; // base64 of tag|ciphertext (AES-256-GCM under a root-derived key)
  secret_nonce: string; // base64
  root_key_version: number;
  enabled: number;
  created_at: string;
  updated_at: string;
  /** The secret before the last rotation, still signing (beside the new one) until previous_secret_expires_at. */
  previous_secret_ciphertext: string | null;
  previous_secret_nonce: string | null;
  previous_root_key_version: number | null;
  previous_secret_expires_at: string | null;
  secret_rotated_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_failure_error: string | null;
  consecutive_failures: Generated<number>;
}

export interface WebhookDeliveriesTable {
  id: string; // the Standard Webhooks webhook-id (msg_...), kept across retries and redeliveries
  endpoint_id: string;
  tenant_id: string;
  event_type: string;
  audit_event_id: string;
  payload: string; // JSON {type, timestamp, data}: ids only
  status: string; // pending | delivered | dead
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null; // a node's lease while it is sending
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  /** What the event is about (`credential:<id>`): one endpoint gets one subject's deliveries in order. Null on older rows. */
  subject: string | null;
  /** The event's place in its tenant's audit chain (increasing per tenant, in commit order). */
  sequence: number | string | null;
}

export interface VerificationMinutesTable {
  node_id: string;
  minute: string;
  allowed: number;
  denied: number;
}

export interface VerificationDeniedClientsTable {
  node_id: string;
  minute: string;
  ip: string;
  denied: number;
}

export interface VerificationOutcomesTable {
  node_id: string;
  minute: string;
  outcome: string;
  tenant_id: string;
  credential_id: string;
  domain: string;
  count: number;
}

export interface VerificationRefusalsTable extends VerificationOutcomesTable {
  ip: string;
}

export interface InstanceFactsTable {
  name: string; // master_key_check | schema_written_by
  value: string;
  updated_at: string;
}

export interface SendingCountersTable {
  subject: string; // credential:<id> | login:<id> | tenant:<id>
  window: string; // hour | day
  window_start: string; // ISO time the fixed window began (UTC hour or day)
  tenant_id: string;
  messages: number;
  recipients: number;
  rejected: number;
  deferred: number;
  updated_at: string;
}

export interface Database {
  tenants: TenantsTable;
  logins: LoginsTable;
  tenant_domains: TenantDomainsTable;
  login_aliases: LoginAliasesTable;
  credentials: CredentialsTable;
  api_tokens: ApiTokensTable;
  admins: AdminsTable;
  admin_sessions: AdminSessionsTable;
  reauth_tokens: ReauthTokensTable;
  audit_events: AuditEventsTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_checkpoints: AuditCheckpointsTable;
  smtp_accounts: SmtpAccountsTable;
  tenant_data_keys: TenantDataKeysTable;
  incident_resets: IncidentResetsTable;
  credential_sessions: CredentialSessionsTable;
  job_runs: JobRunsTable;
  lifecycle_notices: LifecycleNoticesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  instance_facts: InstanceFactsTable;
  sending_counters: SendingCountersTable;
  verification_minutes: VerificationMinutesTable;
  verification_denied_clients: VerificationDeniedClientsTable;
  verification_outcomes: VerificationOutcomesTable;
  verification_refusals: VerificationRefusalsTable;
}
