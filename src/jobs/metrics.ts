// Prometheus metrics of one runtime (its own registry, so several runtimes in one process never
// collide). Labels are job names and outcomes only: never tenants, keys or secrets.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Services } from '../domain/services.js';

export interface Metrics {
  registry: Registry;
  jobRuns: Counter<'job' | 'outcome'>;
  jobDuration: Histogram<'job'>;
  jobItems: Counter<'job'>;
  webhookDeliveries: Counter<'outcome'>;
}

const byServices = new WeakMap<Services, Metrics>();

function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relaykey_' });
  return {
    registry,
    jobRuns: new Counter({
      name: 'relaykey_job_runs_total',
      help: 'Background job runs by job and outcome',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'relaykey_job_duration_seconds',
      help: 'Background job run durations',
      labelNames: ['job'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    jobItems: new Counter({ name: 'relaykey_job_items_total', help: 'Items handled by background jobs', labelNames: ['job'], registers: [registry] }),
    webhookDeliveries: new Counter({
      name: 'relaykey_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retrying, dead)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

export function metricsFor(services: Services): Metrics {
  let metrics = byServices.get(services);
  if (!metrics) {
    metrics = createMetrics();
    byServices.set(services, metrics);
  }
  return metrics;
}
