// Background jobs for admins (last run of each, run history) and Prometheus metrics.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import type { JobRun } from '../../storage/repositories/job-runs.js';
import { requirePrincipal } from '../authentication.js';
import { presentPage } from './presenters.js';
import { PageQuery } from './schemas.js';
import type { App } from './types.js';
import { JobRunReply, JobsReply, PageOf, replies } from './replies.js';

export function presentJobRun(run: JobRun) {
  return {
    id: run.id,
    job: run.job,
    node_id: run.nodeId,
    started_at: run.startedAt,
    duration_ms: run.durationMs,
    items: run.items,
    outcome: run.outcome,
    error: run.error,
  };
}

export function registerJobRoutes(app: App, services: Services): void {
  const runs = () => services.context.store.jobRuns;

  app.get(
    '/api/v1/jobs',
    {
      config: { action: 'jobs.read' },
      schema: { response: replies({ 200: JobsReply }), tags: ['jobs'], summary: 'Background jobs with their last run on any node (admin)' },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const scheduler = services.jobs;
      const data = [];
      for (const job of scheduler.jobNames.map((name) => ({ name }))) {
        const last = await runs().lastRun(job.name);
        data.push({ job: job.name, interval_ms: scheduler.intervalOf(job.name), last_run: last ? presentJobRun(last) : null });
      }
      return { data };
    },
  );

  app.get(
    '/api/v1/jobs/runs',
    {
      config: { action: 'jobs.read' },
      schema: {
        response: replies({ 200: PageOf(JobRunReply) }),
        tags: ['jobs'],
        summary: 'Job runs, newest first (admin)',
        querystring: Type.Object(
          { ...PageQuery.properties, job: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const q = request.query;
      return presentPage(await runs().list(q.job, { page: q.page, perPage: q.per_page }), presentJobRun);
    },
  );

  app.get(
    '/metrics',
    {
      config: { action: 'public.metrics' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format): verifications by outcome, jobs, caches, the database',
        security: [],
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      const registry = services.metrics.registry;
      return reply.header('content-type', registry.contentType).send(await registry.metrics());
    },
  );
}
