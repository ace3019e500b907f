// GET /api/v1/stats/verifications: per-minute verification counts of every node on the database (admin).
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { STATS_MAX_MINUTES } from '../../domain/verification-stats.js';
import { requirePrincipal } from '../authentication.js';
import { StatsReply } from './replies.js';
import type { App } from './types.js';

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
}
