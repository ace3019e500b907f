// Scopes, roles and protocols: which secret may be used for what.
export const SCOPES = ['smtp', 'pop3', 'imap', 'api:read', 'api:write', 'app', 'internal'] as const;
export type Scope = (typeof SCOPES)[number];

export const PROTOCOLS = ['smtp', 'imap', 'pop3', 'api:read', 'api:write'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const ROLES = {
  send_only: ['smtp', 'api:write'],
  read_only: ['imap', 'pop3', 'api:read'],
  standard: ['smtp', 'imap', 'pop3', 'api:read', 'api:write'],
  iac: ['api:read', 'api:write'],
} as const satisfies Record<string, readonly Scope[]>;
export type Role = keyof typeof ROLES;

/**
 * Scopes a credential of a kind gets when it carries no explicit scopes or role (seed 001):
 * an SMTP credential sends mail; an API credential uses the REST API only.
 */
export const KIND_SCOPES = {
  SMTP: ['smtp'],
  API: ['api:read', 'api:write'],
} as const satisfies Record<'SMTP' | 'API', readonly Scope[]>;

export function scopesForKind(kind: keyof typeof KIND_SCOPES): Scope[] {
  return [...KIND_SCOPES[kind]];
}

/** Scopes a mobile key (seed 002 `POST /mobile`) gets: `app`, full application access as seed 002's scope table says. */
export const MOBILE_SCOPES: Scope[] = ['app'];

const SCOPE_SET = new Set<string>(SCOPES);
const PROTOCOL_SET = new Set<string>(PROTOCOLS);

export const isScope = (value: string): value is Scope => SCOPE_SET.has(value);
export const isProtocol = (value: string): value is Protocol => PROTOCOL_SET.has(value);
export const isRole = (value: string): value is Role => Object.hasOwn(ROLES, value);

/**
 * The protocols a scope list grants. `app` is "full application access (mobile/desktop clients)"
 * in seed 002's scope table: the three mail protocols and the REST API.
 */
export function grantedProtocols(scopes: readonly Scope[]): Set<Protocol> {
  const granted = new Set<Protocol>();
  for (const scope of scopes) {
    if (scope === 'app') {
      for (const protocol of PROTOCOLS) granted.add(protocol);
    } else if (isProtocol(scope)) granted.add(scope);
  }
  return granted;
}

export function scopesForRole(role: Role): Scope[] {
  return [...ROLES[role]];
}

export function isMailProtocol(protocol: Protocol): boolean {
  return protocol === 'smtp' || protocol === 'imap' || protocol === 'pop3';
}
