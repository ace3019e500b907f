// GET /api/v1/tenants/:tenantId/credentials/:credentialId/sessions: where a credential is used from.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { CredentialSession } from '../../domain/session-reads.js';
import { loginScopeOf, requireTenantPrincipal } from '../authentication.js';
import { Uuid } from './schemas.js';
import type { App } from './types.js';

const SessionParams = Type.Object({ tenantId: Uuid, credentialId: Uuid }, { additionalProperties: false });

const SessionReply = Type.Object({
  id: Type.String(),
  ip_address: Type.String(),
  raw_user_agent: Type.String(),
  user_agent_family: Type.String(),
  user_agent_version: Type.String(),
  user_agent_major_version: Type.String(),
  os_family: Type.String(),
  os_version: Type.String(),
  device_family: Type.String(),
  device_brand: Type.String(),
  device_type: Type.String(),
  country: Type.String(),
  country_iso_code: Type.String(),
  protocol: Type.String(),
  active: Type.Boolean(),
  first_seen_at: Type.String(),
  last_seen_at: Type.String(),
});

function presentSession(session: CredentialSession) {
  return {
    id: session.id,
    ip_address: session.ipAddress,
    raw_user_agent: session.rawUserAgent,
    user_agent_family: session.userAgentFamily,
    user_agent_version: session.userAgentVersion,
    user_agent_major_version: session.userAgentMajorVersion,
    os_family: session.osFamily,
    os_version: session.osVersion,
    device_family: session.deviceFamily,
    device_brand: session.deviceBrand,
    device_type: session.deviceType,
    country: session.country,
    country_iso_code: session.countryIsoCode,
    protocol: session.protocol,
    active: session.isActive,
    first_seen_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
  };
}

export function registerSessionRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/credentials/:credentialId/sessions',
    {
      schema: {
        tags: ['credentials'],
        summary: 'Sessions of a credential (client IP, user agent, country, first and last seen); newest first',
        params: SessionParams,
        response: { 200: Type.Object({ data: Type.Array(SessionReply) }) },
      },
    },
    async (request) => {
      const { tenantId, credentialId } = request.params;
      const principal = await requireTenantPrincipal(services, request, tenantId, ['admin', 'bearer']);
      // Throws 404 for a credential of another tenant (or another login, for login-bound tokens).
      const sessions = await services.sessions.listForCredential({ tenantId, loginId: loginScopeOf(principal) }, credentialId, 'newest_seen');
      return { data: sessions.map(presentSession) };
    },
  );
}
