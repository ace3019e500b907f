// Every seed 000 route is for platform admins only, on an existing tenant. This runs before
// body validation so that a tenant token gets 403 and an unknown tenant 404 whatever it sends.
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../domain/services.js';
import type { ReauthOutcome } from '../../domain/vault.js';
import { actorOf, requirePrincipal } from '../authentication.js';

export function adminOnTenant(services: Services) {
  return async (request: FastifyRequest): Promise<void> => {
    await requirePrincipal(services, request, ['admin']);
    await services.tenants.get((request.params as { tenant_id: string }).tenant_id);
  };
}

export function tenantIdOf(request: FastifyRequest): string {
  return (request.params as { tenant_id: string }).tenant_id;
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Audits a refused re-auth on a vault route (the policy hook calls it before answering 401). */
export function reauthDeniedFor(services: Services) {
  return async (request: FastifyRequest, outcome: ReauthOutcome): Promise<void> => {
    const tenantId = tenantIdOf(request);
    // An unknown tenant is a 404, not a denied access to audit.
    await services.tenants.get(tenantId);
    await services.vault.recordAccessDenied(tenantId, outcome, actorOf(request));
  };
}
