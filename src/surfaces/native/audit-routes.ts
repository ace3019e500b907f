// The audit trail of a tenant, or of the platform (admins), filtered and paged (newest first).
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Principal } from '../../domain/access.js';
import type { Services } from '../../domain/services.js';
import type { Severity } from '../../domain/types.js';
import { requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { presentAuditEvent, presentPage } from './presenters.js';
import { PageQuery, TenantParams, Timestamp } from './schemas.js';
import type { App } from './types.js';
import { AuditEventReply, PageOf, replies } from './replies.js';

const AuditQuery = Type.Object(
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
);

type AuditQueryValues = {
  page: number;
  per_page: number;
  event?: string;
  severity?: string;
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
};

async function listEvents(services: Services, tenantId: string | null, q: AuditQueryValues, principal?: Principal) {
  const page = await services.context.store.audit.list(
    {
      tenantId,
      // A login-bound bearer sees only the events about its own login and credentials.
      ...(principal?.type === 'bearer' && principal.loginId ? { aboutLogin: { loginId: principal.loginId, tokenId: principal.tokenId } } : {}),
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
}

export function registerAuditRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/audit-events',
    {
      config: { action: 'audit.tenant.read' },
      schema: {
        tags: ['audit'],
        summary: 'List audit events',
        params: TenantParams,
        querystring: AuditQuery,
        response: replies({ 200: PageOf(AuditEventReply) }),
      },
    },
    async (request) => {
      const principal = await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      return listEvents(services, request.params.tenantId, request.query, principal);
    },
  );

  app.get(
    '/api/v1/audit-events',
    {
      config: { action: 'audit.platform.read' },
      schema: {
        tags: ['audit'],
        summary: 'List platform audit events: admin sign-ins, re-authentication, platform tokens (admin)',
        querystring: AuditQuery,
        response: replies({ 200: PageOf(AuditEventReply) }),
      },
    },
    async (request: FastifyRequest<{ Querystring: AuditQueryValues }>) => {
      await requirePrincipal(services, request, ['admin']);
      return listEvents(services, null, request.query);
    },
  );
}
