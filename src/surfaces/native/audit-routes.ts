// The audit trail of a tenant, filtered and paged (newest first).
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { Severity } from '../../domain/types.js';
import { requireTenantPrincipal } from '../authentication.js';
import { presentAuditEvent, presentPage } from './presenters.js';
import { PageQuery, TenantParams, Timestamp } from './schemas.js';
import type { App } from './types.js';

export function registerAuditRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/audit-events',
    {
      schema: {
        tags: ['audit'],
        summary: 'List audit events',
        params: TenantParams,
        querystring: Type.Object(
          {
            ...PageQuery.properties,
            event: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9_.,]+$' })),
            severity: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])),
            actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            target: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      const q = request.query;
      const page = await services.context.store.audit.list(
        {
          tenantId: request.params.tenantId,
          ...(q.event ? { events: q.event.split(',').filter(Boolean) } : {}),
          ...(q.severity ? { severity: q.severity as Severity } : {}),
          ...(q.actor ? { actorId: q.actor } : {}),
          ...(q.target ? { targetId: q.target } : {}),
          ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
          ...(q.until ? { until: new Date(q.until).toISOString() } : {}),
        },
        { page: q.page, perPage: q.per_page },
      );
      return presentPage(page, presentAuditEvent);
    },
  );
}
