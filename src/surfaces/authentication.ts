// Resolves the caller of a management route and checks what it may reach.
import type { FastifyRequest } from 'fastify';
import { actorFor, type Principal } from '../domain/access.js';
import { type Action, authorize } from '../domain/policy.js';
import type { Services } from '../domain/services.js';
import type { Actor } from '../domain/types.js';
import { AppError, notFound } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /**
     * The route also reads the bearer token from an `Authentication` header (seed 003's document
     * names that header); `Authorization` wins when both come.
     */
    acceptAuthenticationHeader?: boolean;
  }
}

/** The Authorization header, or for routes that accept it the Authentication header. */
function authorizationOf(request: FastifyRequest): string | undefined {
  if (request.headers.authorization !== undefined) return request.headers.authorization;
  if (request.routeOptions.config?.acceptAuthenticationHeader !== true) return undefined;
  const authentication = request.headers.authentication;
  return Array.isArray(authentication) ? authentication[0] : authentication;
}

export function bearerToken(request: FastifyRequest): string | undefined {
  return bearerFromHeader(request.headers.authorization);
}

export function bearerFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export async function authenticateBearer(services: Services, request: FastifyRequest): Promise<Principal> {
  // The policy hook (authorization.ts) has authenticated this request already.
  if (request.principal) return request.principal;
  const principal = await authenticateAuthorization(services, authorizationOf(request));
  request.principal = principal;
  return principal;
}

/** The caller named by an Authorization header, or UNAUTHENTICATED. */
export async function authenticateAuthorization(services: Services, authorization: string | undefined): Promise<Principal> {
  const token = bearerFromHeader(authorization);
  if (!token) throw new AppError('UNAUTHENTICATED', 'An Authorization: Bearer token is required');
  const principal = await services.access.authenticate(token);
  if (!principal) throw new AppError('UNAUTHENTICATED', 'The bearer token is not valid, expired or revoked');
  return principal;
}

/** Authenticates by the header the route's action names (authorization.ts). */
export async function authenticateVia(services: Services, request: FastifyRequest, via: 'authorization' | 'x-server-api-key'): Promise<Principal> {
  if (via === 'authorization') return authenticateBearer(services, request);
  const header = request.headers['x-server-api-key'];
  const presented = Array.isArray(header) ? header[0] : header;
  if (!presented) throw new AppError('UNAUTHENTICATED', 'The X-Server-API-Key header is required');
  const principal = await services.access.authenticate(presented.trim());
  if (!principal) throw new AppError('UNAUTHENTICATED', 'The X-Server-API-Key is not valid or has been revoked');
  request.principal = principal;
  return principal;
}

/** Asks the policy whether the authenticated principal may do `action` (no tenant resource). */
export function requireAction(principal: Principal, action: Action): void {
  const decision = authorize(principal, action);
  if (!decision.allowed) throw new AppError(decision.code, decision.message);
}

export function requirePrincipalType<T extends PrincipalType>(principal: Principal, allowed: readonly T[]): Extract<Principal, { type: T }> {
  if (!(allowed as readonly string[]).includes(principal.type)) {
    throw new AppError('FORBIDDEN', `this route is not available to ${principal.type} tokens`);
  }
  return principal as Extract<Principal, { type: T }>;
}

export type PrincipalType = Principal['type'];

export async function requirePrincipal<T extends PrincipalType>(
  services: Services,
  request: FastifyRequest,
  allowed: readonly T[],
): Promise<Extract<Principal, { type: T }>> {
  return requirePrincipalType(await authenticateBearer(services, request), allowed);
}

/**
 * For routes under /tenants/:tenantId: another tenant's token sees 404 before anything else
 * (it must not learn that the route or the tenant exists); then the token kind is checked.
 */
export async function requireTenantPrincipal<T extends PrincipalType>(
  services: Services,
  request: FastifyRequest,
  tenantId: string,
  allowed: readonly T[],
): Promise<Extract<Principal, { type: T }>> {
  const principal = await authenticateBearer(services, request);
  await requireTenant(services, principal, tenantId);
  if (!(allowed as readonly string[]).includes(principal.type)) {
    throw new AppError('FORBIDDEN', `this route is not available to ${principal.type} tokens`);
  }
  return principal as Extract<Principal, { type: T }>;
}

/** Admins reach every tenant; a tenant token reaches only its own (others look like 404). */
export async function requireTenant(services: Services, principal: Principal, tenantId: string): Promise<void> {
  if (principal.type === 'admin') {
    await services.tenants.get(tenantId);
    return;
  }
  if ((principal.type === 'bearer' || principal.type === 'server') && principal.tenantId === tenantId) return;
  if (principal.type === 'verifier') throw new AppError('FORBIDDEN', 'a verifier token may only verify');
  throw notFound('tenant');
}

export function actorOf(request: FastifyRequest): Actor {
  if (!request.principal) return { type: 'system', id: 'anonymous', ip: request.ip };
  return actorFor(request.principal, request.ip);
}

export function loginScopeOf(principal: Principal): string | null {
  return principal.type === 'bearer' ? principal.loginId : null;
}
