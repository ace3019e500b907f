// GET .../smtp-credentials/audit?page=N&per_page=M: this tenant's SMTP-account events, newest first,
// 50 a page unless per_page (1-100) says otherwise.
import type { Services } from '../../domain/services.js';
import type { AuditEvent } from '../../domain/types.js';
import { isoSeconds } from '../compat.js';
import type { App } from '../native/types.js';
import { adminOnTenant, tenantIdOf } from './guard.js';
import { AuditQuery, AuditReply, BASE_PATH, TenantIdParams } from './schemas.js';

function presentEvent(event: AuditEvent) {
  return {
    id: event.id,
    event: event.event,
    user_id: event.actorId,
    timestamp: isoSeconds(event.occurredAt),
    ...(event.clientIp ? { ip_address: event.clientIp } : {}),
    severity: event.severity,
    ...(Object.keys(event.details).length > 0 ? { details: event.details } : {}),
  };
}

export function registerAuditRoute(app: App, services: Services): void {
  app.get(
    `${BASE_PATH}/audit`,
    {
      config: { action: 'vault.audit' },
      schema: {
        tags: ['seed000'],
        summary: 'Get the SMTP credentials audit trail (admin)',
        params: TenantIdParams,
        querystring: AuditQuery,
        response: { 200: AuditReply },
      },
      preValidation: adminOnTenant(services),
    },
    async (request) => {
      const page = await services.vault.auditTrail(tenantIdOf(request), request.query.page, request.query.per_page);
      return { events: page.items.map(presentEvent), total: page.total, page: page.page, per_page: page.perPage };
    },
  );
}
