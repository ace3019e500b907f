import type { Static } from 'typebox';

// The console's one client of the relaykey HTTP API: every path the console calls is here.
// The session token lives in this module's memory only (never in storage, cookies or URLs).

/** A list reply: ListOf(...) in src/surfaces/native/replies.ts. */
export interface Page<T> {
  data: T[];
  pagination: Static<Replies['Pagination']>;
}

export type Session =
  | { kind: 'admin'; token: string; expiresAt: string; email: string }
  | { kind: 'token'; token: string; tenantId: string; tenantName: string };

export type SessionEnd = 'signed-out' | 'expired';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

const STORED_SESSION = 'relaykey.session';
const STORED_EMAIL = 'relaykey.email';

/**
 * The session survives a reload: it is kept in this tab's sessionStorage (gone when the tab
 * closes, never sent anywhere by the browser, unreadable by other origins; the CSP admits no
 * script but the console's own). An admin session past its expiry is not restored.
 */
function restoreSession(): Session | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORED_SESSION) ?? 'null') as Session | null;
    if (!stored || typeof stored.token !== 'string') return null;
    if (stored.kind === 'admin' && !(new Date(stored.expiresAt).getTime() > Date.now())) return null;
    return stored;
  } catch {
    return null;
  }
}

let session: Session | null = restoreSession();
const endListeners = new Set<(reason: SessionEnd) => void>();

export function currentSession(): Session | null {
  return session;
}

/** The email of the last admin who signed in here (prefilled on the sign-in form; not a secret). */
export function lastEmail(): string {
  try {
    return localStorage.getItem(STORED_EMAIL) ?? '';
  } catch {
    return '';
  }
}

export function startSession(next: Session): void {
  session = next;
  try {
    sessionStorage.setItem(STORED_SESSION, JSON.stringify(next));
    if (next.kind === 'admin') localStorage.setItem(STORED_EMAIL, next.email);
  } catch {
    // Storage refused (a private mode): the session lasts until reload, as before.
  }
}

/** Forgets the token and tells the app (which shows the sign-in page with a message). */
export function endSession(reason: SessionEnd): void {
  try {
    sessionStorage.removeItem(STORED_SESSION);
  } catch {
    // nothing stored
  }
  if (!session) return;
  session = null;
  for (const listener of endListeners) listener(reason);
}

export function onSessionEnd(listener: (reason: SessionEnd) => void): () => void {
  endListeners.add(listener);
  return () => endListeners.delete(listener);
}

type Query = Record<string, string | number | undefined | null>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sign-in calls must not end a session on 401. */
  anonymous?: boolean;
  token?: string;
}

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = options.token ?? (options.anonymous ? undefined : session?.token);
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), { method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error' });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The relaykey server cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.ok) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string; request_id?: string } } | null)?.error;
  const failure = new ApiError(
    response.status,
    error?.code ?? `HTTP_${response.status}`,
    error?.message ?? `The server answered HTTP ${response.status}`,
    error?.request_id ?? response.headers.get('x-request-id'),
  );
  // A token that stopped working (expired, signed out elsewhere, revoked) ends the session.
  if (response.status === 401 && failure.code === 'UNAUTHENTICATED' && !options.anonymous && session) endSession('expired');
  throw failure;
}

const enc = encodeURIComponent;
const tenantPath = (tenantId: string) => `/api/v1/tenants/${enc(tenantId)}`;
const vaultPath = (tenantId: string) => `/api/v1/platform-admin/tenants/${enc(tenantId)}/smtp-credentials`;

// ---- shapes: the native API's reply schemas themselves (src/surfaces/native/replies.ts), so the
// console cannot drift from what the server sends (tsc -p console fails, and so does
// test/console/api-types.test.ts). Type-only: nothing of the server is bundled.

type Replies = typeof import('../../src/surfaces/native/replies.js');
export type Tenant = Static<Replies['TenantReply']>;
export type CreatedTenant = Static<Replies['CreatedTenantReply']>;
export type Connection = Tenant['connection_info']['smtp'];
export type Login = Static<Replies['LoginReply']>;
export type OwnedDomain = Static<Replies['DomainReply']>;
export type Credential = Static<Replies['CredentialReply']>;
export type CreatedCredential = Static<Replies['IssuedCredentialReply']>;
export type AuditEvent = Static<Replies['AuditEventReply']>;
export type ChainCheck = Static<Replies['AuditVerifyReply']>;
export type WebhookEndpoint = Static<Replies['WebhookReply']>;
export type WebhookDelivery = Static<Replies['DeliveryReply']>;
export type DeliveryStatus = WebhookDelivery['status'];
export type JobRun = Static<Replies['JobRunReply']>;
export type JobInfo = Static<Replies['JobsReply']>['data'][number];
export type VaultCheckout = Static<Replies['VaultCheckoutReply']>;
export type RootKeyStatus = Static<Replies['RootKeyStatusReply']>;
export type SmtpAccountStatus = Static<Replies['SmtpAccountStatusReply']>;
export type VerificationStats = Static<Replies['StatsReply']>;
/** GET .../credentials/:id/sessions (src/surfaces/native/session-routes.ts). */
export type CredentialSession = Static<Replies['SessionReply']>;
export type VerificationAnalytics = Static<Replies['VerificationAnalyticsReply']>;
export type VerificationOutcome = keyof VerificationAnalytics['outcomes'];

// Seed 000 (the platform-admin vault API): its reply schemas (src/surfaces/seed000/replies.ts).
type Seed000Replies = typeof import('../../src/surfaces/seed000/replies.js');
export type SmtpCheckout = Static<Seed000Replies['CredentialsReply']>;
export type SmtpReset = Static<Seed000Replies['EmergencyResetReply']>;
export type VaultAuditEvent = Static<Seed000Replies['AuditEventReply']>;
export type VaultAudit = Static<Seed000Replies['AuditReply']>;

// ---- not shared yet: request shapes, and the usage reply (src/protocol/postfix/usage-route.ts) ----

export type Protocol = 'smtp' | 'imap' | 'pop3';
export interface TenantInput {
  name?: string;
  domain?: string | null;
  webmail_url?: string | null;
  smtp_username?: string;
  connection_info?: Partial<Record<Protocol, Partial<Connection>>>;
  mail_backends?: Partial<Record<Protocol, string>> | null;
  settings?: { inactivity_days?: number };
}
export interface CredentialInput {
  name: string;
  kind?: 'SMTP' | 'API';
  login_id?: string | null;
  scopes?: string[];
  role?: string;
  expires_at?: string | null;
}
export interface AuditFilter {
  event?: string;
  actor?: string;
  target?: string;
  severity?: string;
  since?: string;
  until?: string;
  page?: number;
  per_page?: number;
}
export type SendingLimits = NonNullable<Credential['sending_limits']>;
export interface CredentialPatch {
  name?: string;
  expires_at?: string | null;
  allowed_networks?: string[] | null;
  allowed_senders?: string[] | null;
  sending_limits?: Partial<SendingLimits> | null;
}
/** GET .../credentials/:id/usage (src/protocol/postfix/usage-route.ts). */
export type CredentialUsage = Static<Replies['UsageReply']>;
export type UsageWindow = CredentialUsage['hour'];
export type Token = Static<Replies['TokenReply']>;
export type VerifierToken = Static<Replies['VerifierTokenReply']>;
export type AdminSession = Static<Replies['AdminSessionReply']>;
export type AdminUser = Static<Replies['AdminReply']>;
export type TotpEnrolment = Static<Replies['TotpEnrolmentReply']>;

/** base64 (the vault's password encoding) -> UTF-8 text. */
export function decodeBase64(value: string): string {
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export const api = {
  auth: {
    login: (input: { email: string; password: string; totp_code?: string }) =>
      request<{ token: string; expires_at: string }>('POST', '/api/v1/auth/login', { body: input, anonymous: true }),
    reauth: (input: { password: string; totp_code?: string }) =>
      request<{ reauth_token: string; expires_at: string }>('POST', '/api/v1/auth/reauth', { body: input }),
    logout: () => request<void>('POST', '/api/v1/auth/logout'),
  },
  tenants: {
    list: (query: { search?: string; page?: number; per_page?: number }) => request<Page<Tenant>>('GET', '/api/v1/tenants', { query }),
    get: (tenantId: string, token?: string) => request<Tenant>('GET', tenantPath(tenantId), token ? { token, anonymous: true } : {}),
    create: (input: TenantInput) => request<CreatedTenant>('POST', '/api/v1/tenants', { body: input }),
    update: (tenantId: string, input: TenantInput) => request<Tenant>('PATCH', tenantPath(tenantId), { body: input }),
  },
  domains: {
    list: (tenantId: string) => request<{ data: OwnedDomain[] }>('GET', `${tenantPath(tenantId)}/domains`),
    assign: (tenantId: string, domain: string) => request<OwnedDomain>('POST', `${tenantPath(tenantId)}/domains`, { body: { domain } }),
    remove: (tenantId: string, domain: string) => request<null>('DELETE', `${tenantPath(tenantId)}/domains/${encodeURIComponent(domain)}`),
  },
  logins: {
    list: (tenantId: string, query: { page?: number; per_page?: number } = {}) => request<Page<Login>>('GET', `${tenantPath(tenantId)}/logins`, { query }),
    create: (tenantId: string, address: string) => request<Login>('POST', `${tenantPath(tenantId)}/logins`, { body: { address } }),
  },
  credentials: {
    list: (tenantId: string, query: { page?: number; per_page?: number; status?: string } = {}) =>
      request<Page<Credential>>('GET', `${tenantPath(tenantId)}/credentials`, { query }),
    create: (tenantId: string, input: CredentialInput) => request<CreatedCredential>('POST', `${tenantPath(tenantId)}/credentials`, { body: input }),
    hold: (tenantId: string, id: string) => request<Credential>('POST', `${tenantPath(tenantId)}/credentials/${enc(id)}/hold`),
    unhold: (tenantId: string, id: string) => request<Credential>('POST', `${tenantPath(tenantId)}/credentials/${enc(id)}/unhold`),
    revoke: (tenantId: string, id: string, reason: string) =>
      request<Credential>('POST', `${tenantPath(tenantId)}/credentials/${enc(id)}/revoke`, { body: { reason } }),
    rotate: (tenantId: string, id: string, gracePeriodSeconds: number) =>
      request<CreatedCredential & { replaced: Credential }>('POST', `${tenantPath(tenantId)}/credentials/${enc(id)}/rotate`, {
        body: { grace_period_seconds: gracePeriodSeconds },
      }),
    get: (tenantId: string, id: string) => request<Credential>('GET', `${tenantPath(tenantId)}/credentials/${enc(id)}`),
    update: (tenantId: string, id: string, patch: CredentialPatch) =>
      request<Credential>('PATCH', `${tenantPath(tenantId)}/credentials/${enc(id)}`, { body: patch }),
    usage: (tenantId: string, id: string) => request<CredentialUsage>('GET', `${tenantPath(tenantId)}/credentials/${enc(id)}/usage`),
    sessions: async (tenantId: string, id: string) =>
      (await request<{ data: CredentialSession[] }>('GET', `${tenantPath(tenantId)}/credentials/${enc(id)}/sessions`)).data,
  },
  vault: {
    reveal: (tenantId: string, reauthToken: string) => request<SmtpCheckout>('GET', vaultPath(tenantId), { headers: { 'x-reauth-token': reauthToken } }),
    rotate: (tenantId: string, reason: string) =>
      request<{ success: boolean; rotated_at: string; next_rotation: string }>('POST', `${vaultPath(tenantId)}/rotate`, { body: { reason } }),
    emergencyReset: (tenantId: string, reauthToken: string, incidentId: string, reason: string) =>
      request<SmtpReset>('POST', `${vaultPath(tenantId)}/emergency-reset`, {
        body: { incident_id: incidentId, reason },
        headers: { 'x-reauth-token': reauthToken },
      }),
    audit: (tenantId: string) => request<VaultAudit>('GET', `${vaultPath(tenantId)}/audit`),
    /** The account without its password: rotation times and the open checkout. */
    status: (tenantId: string) => request<SmtpAccountStatus>('GET', `${tenantPath(tenantId)}/smtp-account`),
    checkouts: async () => (await request<{ data: VaultCheckout[] }>('GET', '/api/v1/vault/checkouts')).data,
    endCheckout: (tenantId: string) =>
      request<{ ended: true; rotated_at: string; next_rotation: string }>('DELETE', `${tenantPath(tenantId)}/smtp-account/checkout`),
    rootKey: () => request<RootKeyStatus>('GET', '/api/v1/vault/root-key'),
  },
  audit: {
    /** tenantId null: the platform's own trail (admin sign-ins, re-authentication, platform tokens). */
    list: (tenantId: string | null, filter: AuditFilter) =>
      request<Page<AuditEvent>>('GET', tenantId ? `${tenantPath(tenantId)}/audit-events` : '/api/v1/audit-events', { query: { ...filter } }),
    verify: (tenantId?: string) => request<ChainCheck>('GET', '/api/v1/audit/verify', { query: { tenant_id: tenantId } }),
  },
  webhooks: {
    list: async (tenantId: string) => (await request<{ data: WebhookEndpoint[] }>('GET', `${tenantPath(tenantId)}/webhooks`)).data,
    create: (tenantId: string, input: { url: string; events?: string[] }) =>
      request<WebhookEndpoint & { secret: string }>('POST', `${tenantPath(tenantId)}/webhooks`, { body: input }),
    update: (tenantId: string, webhookId: string, patch: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }) =>
      request<WebhookEndpoint>('PATCH', `${tenantPath(tenantId)}/webhooks/${enc(webhookId)}`, { body: patch }),
    remove: (tenantId: string, webhookId: string) => request<void>('DELETE', `${tenantPath(tenantId)}/webhooks/${enc(webhookId)}`),
    deliveries: (tenantId: string, webhookId: string, query: { page?: number; per_page?: number; status?: DeliveryStatus } = {}) =>
      request<Page<WebhookDelivery>>('GET', `${tenantPath(tenantId)}/webhooks/${enc(webhookId)}/deliveries`, { query }),
    redeliver: (tenantId: string, deliveryId: string) =>
      request<WebhookDelivery>('POST', `${tenantPath(tenantId)}/webhook-deliveries/${enc(deliveryId)}/redeliver`),
    sendTest: (tenantId: string, webhookId: string) => request<WebhookDelivery>('POST', `${tenantPath(tenantId)}/webhooks/${enc(webhookId)}/test`),
    rotateSecret: (tenantId: string, webhookId: string, overlapSeconds: number) =>
      request<WebhookEndpoint & { secret: string }>('POST', `${tenantPath(tenantId)}/webhooks/${enc(webhookId)}/rotate-secret`, {
        body: { overlap_seconds: overlapSeconds },
      }),
  },
  tokens: {
    list: async (tenantId: string) => (await request<{ data: Token[] }>('GET', `${tenantPath(tenantId)}/tokens`)).data,
    create: (tenantId: string, input: { kind: 'bearer' | 'server'; name: string; login_id?: string }) =>
      request<Token & { token: string }>('POST', `${tenantPath(tenantId)}/tokens`, { body: input }),
    revoke: (tenantId: string, tokenId: string) => request<unknown>('DELETE', `${tenantPath(tenantId)}/tokens/${enc(tokenId)}`),
    verifiers: async () => (await request<{ data: VerifierToken[] }>('GET', '/api/v1/verifier-tokens')).data,
    createVerifier: (name: string) => request<VerifierToken & { token: string }>('POST', '/api/v1/verifier-tokens', { body: { name } }),
    revokeVerifier: (tokenId: string) => request<unknown>('DELETE', `/api/v1/verifier-tokens/${enc(tokenId)}`),
  },
  admins: {
    list: async () => (await request<{ data: AdminUser[] }>('GET', '/api/v1/admins')).data,
    create: (input: { email: string; password: string; role: AdminUser['role'] }) => request<AdminUser>('POST', '/api/v1/admins', { body: input }),
    setDisabled: (adminId: string, disabled: boolean) => request<AdminUser>('POST', `/api/v1/admins/${enc(adminId)}/${disabled ? 'disable' : 'enable'}`),
  },
  totp: {
    start: (password: string) => request<TotpEnrolment>('POST', '/api/v1/auth/totp/enrolment', { body: { password } }),
    confirm: (code: string) => request<AdminUser>('POST', '/api/v1/auth/totp/enrolment/confirm', { body: { code } }),
  },
  sessions: {
    list: async () => (await request<{ data: AdminSession[] }>('GET', '/api/v1/auth/sessions')).data,
    end: (sessionId: string) => request<unknown>('DELETE', `/api/v1/auth/sessions/${enc(sessionId)}`),
    endAll: () => request<unknown>('POST', '/api/v1/auth/sessions/end-all'),
  },
  jobs: {
    list: async () => (await request<{ data: JobInfo[] }>('GET', '/api/v1/jobs')).data,
    runs: (query: { page?: number; per_page?: number; job?: string } = {}) => request<Page<JobRun>>('GET', '/api/v1/jobs/runs', { query }),
  },
  stats: {
    verifications: (minutes = 60) => request<VerificationStats>('GET', '/api/v1/stats/verifications', { query: { minutes } }),
    /** One tenant's verification outcomes, or one credential's. */
    analytics: (tenantId: string, minutes: number, credentialId?: string) =>
      request<VerificationAnalytics>(
        'GET',
        credentialId ? `${tenantPath(tenantId)}/credentials/${enc(credentialId)}/stats/verifications` : `${tenantPath(tenantId)}/stats/verifications`,
        { query: { minutes } },
      ),
  },
};
