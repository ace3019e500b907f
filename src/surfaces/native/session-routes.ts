// GET /api/v1/tenants/:tenantId/credentials/:credentialId/sessions: where a credential is used from.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { SessionRow } from '../../storage/repositories/sessions.js';
import { loginScopeOf, requirePrincipal, requireTenant } from '../authentication.js';
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

function presentSession(row: SessionRow) {
  return {
    id: row.id,
    ip_address: row.ip_address,
    raw_user_agent: row.raw_user_agent,
    user_agent_family: row.user_agent_family,
    user_agent_version: row.user_agent_version,
    user_agent_major_version: row.user_agent_major_version,
    os_family: row.os_family,
    os_version: row.os_version,
    device_family: row.device_family,
    device_brand: row.device_brand,
    device_type: row.device_type,
    country: row.country,
    country_iso_code: row.country_iso_code,
    protocol: row.protocol,
    active: row.is_active === 1,
    first_seen_at: row.created_at,
    last_seen_at: row.last_seen_at,
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
      const principal = await requirePrincipal(services, request, ['admin', 'bearer']);
      await requireTenant(services, principal, tenantId);
      // Throws 404 for a credential of another tenant (or another login, for login-bound tokens).
      const credential = await services.credentials.get({ tenantId, loginId: loginScopeOf(principal) }, credentialId);
      const rows = await services.usage.sessionsOf(credential.id);
      return { data: rows.map(presentSession) };
    },
  );
}
