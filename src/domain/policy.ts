// The one authorization policy: may principal P perform action A on resource R?
// Every surface (native, seed 000-003, the hot verify path, the console's API) names the action
// of each route and asks this module, before anything of the request body is looked at. The
// finer rules of a login-bound bearer (it may only narrow its credentials, it sees only its
// own events) live here too, so that no handler decides them on its own.
import type { Principal } from './access.js';

/** Who can be calling. A `bound-bearer` is a tenant bearer token bound to one login. */
export type PrincipalKind = 'anonymous' | 'admin' | 'bearer' | 'bound-bearer' | 'server' | 'verifier';

export const PRINCIPAL_KINDS: readonly PrincipalKind[] = ['anonymous', 'admin', 'bearer', 'bound-bearer', 'server', 'verifier'];

/** How the caller presents itself on a route of this action. */
export type CredentialHeader = 'authorization' | 'x-server-api-key' | 'none';

export interface ActionRule {
  allow: readonly PrincipalKind[];
  /** The header that carries the caller's token (`none` for public actions). */
  via: CredentialHeader;
  /** The route answers a vaulted secret: a valid X-Reauth-Token of the same admin session is required. */
  reauth?: true;
  /** Only an admin whose role is owner (managing admins). */
  ownerOnly?: true;
}

const PUBLIC: ActionRule = { allow: ['anonymous'], via: 'none' };
const ADMIN: ActionRule = { allow: ['admin'], via: 'authorization' };
const TENANT: ActionRule = { allow: ['admin', 'bearer', 'bound-bearer'], via: 'authorization' };
const TENANT_UNBOUND: ActionRule = { allow: ['admin', 'bearer'], via: 'authorization' };
const SERVER_KEY: ActionRule = { allow: ['server'], via: 'x-server-api-key' };
const BEARER_ONLY: ActionRule = { allow: ['bearer', 'bound-bearer'], via: 'authorization' };
const BOUND_BEARER: ActionRule = { allow: ['bound-bearer'], via: 'authorization' };
const VERIFIER: ActionRule = { allow: ['verifier'], via: 'authorization' };

export const POLICY = {
  // Public: health, documentation, metrics, the console's static files, admin sign-in.
  'public.health': PUBLIC,
  'public.docs': PUBLIC,
  'public.metrics': PUBLIC,
  'public.console': PUBLIC,
  'auth.login': PUBLIC,
  // Admin sessions.
  'auth.reauth': ADMIN,
  'auth.logout': ADMIN,
  'auth.sessions.list': ADMIN,
  'auth.sessions.revoke': ADMIN,
  'admins.list': ADMIN,
  // Creating, disabling and enabling admins: owners only.
  'admins.write': { ...ADMIN, ownerOnly: true },
  // The caller's own TOTP enrolment (the password again to start, a code to confirm).
  'auth.totp.enrol': ADMIN,
  // Tenants and logins.
  'tenants.list': ADMIN,
  'tenants.create': ADMIN,
  'tenants.update': ADMIN,
  'tenants.read': TENANT,
  'logins.list': TENANT,
  'logins.create': TENANT_UNBOUND,
  'logins.read': TENANT,
  'logins.aliases.read': TENANT,
  'logins.aliases.write': TENANT_UNBOUND,
  // Mail domains: assigned by platform admins; a tenant's own tokens (and its servers) may read them.
  'domains.list': { allow: ['admin', 'bearer', 'bound-bearer', 'server'], via: 'authorization' },
  'domains.write': ADMIN,
  'domains.report': ADMIN,
  // Credentials (a bound bearer is confined to its login's credentials and may only narrow).
  'credentials.list': TENANT,
  'credentials.create': TENANT,
  'credentials.read': TENANT,
  'credentials.update': TENANT,
  'credentials.hold': TENANT,
  'credentials.unhold': TENANT_UNBOUND,
  'credentials.revoke': TENANT,
  'credentials.rotate': TENANT,
  'credentials.sessions': TENANT,
  'credentials.usage': TENANT,
  // Management tokens.
  'tokens.list': ADMIN,
  'tokens.create': ADMIN,
  'tokens.revoke': ADMIN,
  'verifier-tokens.list': ADMIN,
  'verifier-tokens.create': ADMIN,
  'verifier-tokens.revoke': ADMIN,
  // Audit.
  'audit.tenant.read': TENANT,
  'audit.platform.read': ADMIN,
  'audit.verify': ADMIN,
  // Webhooks.
  'webhooks.read': TENANT_UNBOUND,
  'webhooks.write': TENANT_UNBOUND,
  // Operations.
  'jobs.read': ADMIN,
  'stats.read': ADMIN,
  // A tenant's (or one credential's) verification outcomes: the tenant's own unbound tokens may read them.
  'stats.tenant.read': TENANT_UNBOUND,
  // Verification (mail servers).
  'verify.credential': VERIFIER,
  'verify.nginx': VERIFIER,
  // Seed 000: the platform-admin SMTP vault. Every route that answers a vaulted secret needs re-auth.
  'vault.reveal': { ...ADMIN, reauth: true },
  'vault.emergency-reset': { ...ADMIN, reauth: true },
  'vault.rotate': ADMIN,
  'vault.audit': ADMIN,
  // The vault page: open checkouts (ending one rotates the password) and the root key's status.
  'vault.status.read': ADMIN,
  'vault.checkouts.end': ADMIN,
  'vault.root-key.read': ADMIN,
  // Seeds 001-003.
  'seed001.credentials': SERVER_KEY,
  'seed002.credentials': BOUND_BEARER,
  'seed003.api-keys': BEARER_ONLY,
} as const satisfies Record<string, ActionRule>;

export type Action = keyof typeof POLICY;

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && Object.hasOwn(POLICY, value);
}

export function ruleOf(action: Action): ActionRule {
  return POLICY[action];
}

export function kindOf(principal: Principal | null): PrincipalKind {
  if (!principal) return 'anonymous';
  if (principal.type === 'bearer') return principal.loginId ? 'bound-bearer' : 'bearer';
  return principal.type;
}

export type Decision = { allowed: true } | { allowed: false; code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND'; message: string };

const ALLOWED: Decision = { allowed: true };

/**
 * May `principal` do `action` on the resource (a tenant, when the route names one)? Order:
 * no token is 401; a tenant token on another tenant's resource is 404 (it must not learn that
 * the tenant exists); a principal kind the action does not admit is 403.
 */
export function authorize(principal: Principal | null, action: Action, resource: { tenantId?: string | undefined } = {}): Decision {
  const rule = POLICY[action] as ActionRule;
  const kind = kindOf(principal);
  if (rule.allow.includes('anonymous')) return ALLOWED;
  if (!principal) return { allowed: false, code: 'UNAUTHENTICATED', message: 'Missing or invalid credentials' };
  if (resource.tenantId !== undefined && (principal.type === 'bearer' || principal.type === 'server') && principal.tenantId !== resource.tenantId) {
    return { allowed: false, code: 'NOT_FOUND', message: 'tenant not found' };
  }
  if (!rule.allow.includes(kind)) {
    return {
      allowed: false,
      code: 'FORBIDDEN',
      message:
        kind === 'verifier'
          ? 'a verifier token may only verify'
          : kind === 'bearer' && rule.allow.includes('bound-bearer')
            ? 'this endpoint needs a Bearer token bound to a mailbox login'
            : `this route is not available to ${kind} tokens`,
    };
  }
  if (rule.ownerOnly && principal.type === 'admin' && principal.role !== 'owner') {
    return { allowed: false, code: 'FORBIDDEN', message: 'only an owner may manage admins' };
  }
  return ALLOWED;
}

/** The values of a credential a change may touch, as far as widening is concerned. */
export interface CredentialBounds {
  scopes: readonly string[];
  allowedNetworks: readonly string[] | null;
  expiresAt: string | null;
}

/**
 * A login-bound bearer may only narrow its credentials: fewer scopes, a subset of its allowed
 * networks (the same CIDR texts; a narrower CIDR written differently is refused), an earlier
 * expiry. Returns the reason a change widens, or null when it does not.
 * Other principals (admins, unbound tenant bearers) may change anything.
 */
export function widening(kind: PrincipalKind, before: CredentialBounds, change: Partial<CredentialBounds>): string | null {
  if (kind !== 'bound-bearer') return null;
  if (change.scopes !== undefined) {
    const added = change.scopes.filter((scope) => !before.scopes.includes(scope));
    if (added.length > 0) return `a login-bound token may not add scopes (${added.join(', ')})`;
  }
  if (change.allowedNetworks !== undefined && before.allowedNetworks !== null) {
    const next = change.allowedNetworks;
    if (next === null || next.length === 0) return 'a login-bound token may not remove the network restriction';
    const extra = next.filter((cidr) => !before.allowedNetworks?.includes(cidr));
    if (extra.length > 0) return `a login-bound token may not add networks (${extra.join(', ')})`;
  }
  if (change.expiresAt !== undefined) {
    if (change.expiresAt === null && before.expiresAt !== null) return 'a login-bound token may not remove the expiry';
    if (change.expiresAt !== null && before.expiresAt !== null && change.expiresAt > before.expiresAt) {
      return 'a login-bound token may not extend the expiry';
    }
  }
  return null;
}
