// GET /api/v1/stats/verifications: per-minute verification counts of every node on the database (admin).
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { STATS_MAX_MINUTES } from '../../domain/verification-stats.js';
import { AppError } from '../../errors.js';
import { requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import { replies, StatsReply, VerificationAnalyticsReply } from './replies.js';
import { Uuid } from './schemas.js';
import type { App } from './types.js';

const RangeQuery = Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: STATS_MAX_MINUTES, default: 60 }) }, { additionalProperties: false });

export function registerStatsRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/stats/verifications',
    {
      config: { action: 'stats.read' },
      schema: {
        tags: ['stats'],
        summary: 'Allowed and denied verifications per minute, summed over every node on the database, oldest first, and the most denied client IPs',
        querystring: Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: STATS_MAX_MINUTES, default: 60 }) }, { additionalProperties: false }),
        response: { 200: StatsReply },
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      return services.sharedStats ? services.sharedStats.series(request.query.minutes) : services.stats.series(request.query.minutes);
    },
  );

  async function analytics(tenantId: string, minutes: number, credentialId?: string) {
    const shared = services.sharedStats;
    if (!shared) throw new AppError('INVALID_STATE', 'verification analytics are not kept on this node');
    const domains = credentialId ? [] : (await services.domains.list(tenantId)).map((d) => d.domain);
    const result = await shared.analytics(minutes, { tenantId, domains, ...(credentialId ? { credentialId } : {}) });
    return { minutes, ...result };
  }

  app.get(
    '/api/v1/tenants/:tenantId/stats/verifications',
    {
      config: { action: 'stats.tenant.read' },
      schema: {
        tags: ['stats'],
        summary:
          "A tenant's verification outcomes over the last `minutes` minutes (every node): per outcome, per minute, and the most refused client addresses with their reasons; unknown keys count when the user name is in one of the tenant's domains",
        params: Type.Object({ tenantId: Uuid }, { additionalProperties: false }),
        querystring: RangeQuery,
        response: replies({ 200: VerificationAnalyticsReply }),
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      if (!(await services.context.store.tenants.findById(request.params.tenantId))) throw new AppError('NOT_FOUND', 'tenant not found');
      return analytics(request.params.tenantId, request.query.minutes);
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/credentials/:credentialId/stats/verifications',
    {
      config: { action: 'stats.tenant.read' },
      schema: {
        tags: ['stats'],
        summary:
          "One credential's verification outcomes over the last `minutes` minutes (every node): per outcome, per minute, and the most refused client addresses with their reasons",
        params: Type.Object({ tenantId: Uuid, credentialId: Uuid }, { additionalProperties: false }),
        querystring: RangeQuery,
        response: replies({ 200: VerificationAnalyticsReply }),
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin', 'bearer']);
      // 404 for a credential of another tenant (or none).
      await services.credentials.get({ tenantId: request.params.tenantId, loginId: null }, request.params.credentialId);
      return analytics(request.params.tenantId, request.query.minutes, request.params.credentialId);
    },
  );
}
