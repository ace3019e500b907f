// GET /api/v1/tenants/:tenantId/credentials/:credentialId/sessions: where a credential is used from.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { CredentialSession } from '../../domain/session-reads.js';
import { loginScopeOf, requireTenantPrincipal } from '../authentication.js';
import { presentSessionClient } from '../session-client.js';
import { SessionReply } from './replies.js';
import { Uuid } from './schemas.js';
import type { App } from './types.js';

const SessionParams = Type.Object({ tenantId: Uuid, credentialId: Uuid }, { additionalProperties: false });

function presentSession(session: CredentialSession) {
  return {
    id: session.id,
    ...presentSessionClient(session),
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
      config: { action: 'credentials.sessions' },
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
