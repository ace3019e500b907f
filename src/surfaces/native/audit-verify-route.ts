// GET /api/v1/audit/verify: walks the audit hash chains (all, or one tenant's) for admins.
import { Type } from 'typebox';
import { verifyAuditChains } from '../../domain/audit.js';
import type { Services } from '../../domain/services.js';
import { requirePrincipal } from '../authentication.js';
import { Uuid } from './schemas.js';
import type { App } from './types.js';
import { AuditVerifyReply, replies } from './replies.js';

export function registerAuditVerifyRoute(app: App, services: Services): void {
  app.get(
    '/api/v1/audit/verify',
    {
      config: { action: 'audit.verify' },
      schema: {
        response: replies({ 200: AuditVerifyReply }),
        tags: ['audit'],
        summary: "Verify the audit hash chains (admin): every chain, or one tenant's",
        querystring: Type.Object({ tenant_id: Type.Optional(Uuid) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const tenantId = request.query.tenant_id;
      if (tenantId) await services.tenants.get(tenantId);
      const result = await verifyAuditChains(services.context.store, tenantId, services.context.auditKeys);
      return {
        ok: result.problems.length === 0,
        chains: result.chains,
        events: result.events,
        problems: result.problems.map((p) => ({ chain: p.chain, event_id: p.eventId, seq: p.seq, problem: p.problem })),
      };
    },
  );
}
