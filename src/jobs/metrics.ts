// Prometheus metrics of one runtime (its own registry, so several runtimes in one process never
// collide). Labels are job names and outcomes only: never tenants, keys or secrets.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  jobRuns: Counter<'job' | 'outcome'>;
  jobDuration: Histogram<'job'>;
  jobItems: Counter<'job'>;
  webhookDeliveries: Counter<'outcome'>;
  verifications: Counter<'outcome' | 'protocol' | 'surface'>;
  verificationDuration: Histogram<'surface' | 'result'>;
  deniedLogSuppressed: Counter;
  /** Reads the verify cache, throttle and change-feed figures at each scrape. */
  verifyCache: { collect(source: CacheSource, info: FeedInfo): void };
}

/** What the scrape-time figures are read from (the verifier and the login gate). */
export interface CacheSource {
  readonly cacheSize: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly invalidations: number;
  readonly cacheResets: number;
}

export interface FeedInfo {
  postgres: boolean;
  redis: boolean;
  throttleBackend: 'memory' | 'redis';
  throttleErrors?: () => number;
  trustedProxyVerifications?: () => number;
}

/** A fresh registry with relaykey's instruments (one per service container: see domain/services.ts). */
export function createMetrics(): Metrics {
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
    ...verificationMetrics(registry),
  };
}

function verificationMetrics(registry: Registry): Pick<Metrics, 'verifications' | 'verificationDuration' | 'deniedLogSuppressed' | 'verifyCache'> {
  let source: CacheSource | null = null;
  let info: FeedInfo | null = null;
  const totals = (name: string, help: string, read: (s: CacheSource) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        if (!source) return;
        this.reset();
        this.inc(read(source));
      },
    });
  new Gauge({
    name: 'relaykey_verify_cache_entries',
    help: 'Credentials (and unknown keys) held in the verify cache',
    registers: [registry],
    collect() {
      if (source) this.set(source.cacheSize);
    },
  });
  new Counter({
    name: 'relaykey_verify_cache_lookups_total',
    help: 'Verify cache lookups by result (hit, miss)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      if (!source) return;
      this.reset();
      this.inc({ result: 'hit' }, source.cacheHits);
      this.inc({ result: 'miss' }, source.cacheMisses);
    },
  });
  new Gauge({
    name: 'relaykey_verify_cache_hit_ratio',
    help: 'Share of verify lookups answered from the cache since start (0 before the first)',
    registers: [registry],
    collect() {
      if (!source) return;
      const total = source.cacheHits + source.cacheMisses;
      this.set(total === 0 ? 0 : source.cacheHits / total);
    },
  });
  totals(
    'relaykey_verify_cache_invalidations_total',
    'Single credentials dropped from the verify cache (local changes and the change feed)',
    (s) => s.invalidations,
  );
  totals('relaykey_verify_cache_resets_total', 'Whole verify cache drops (change feed reconnects, unreadable feed messages)', (s) => s.cacheResets);
  new Gauge({
    name: 'relaykey_change_feed_enabled',
    help: 'Change feeds this node listens on for other nodes credential changes (1 = on)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      if (!info) return;
      this.set({ channel: 'postgres' }, info.postgres ? 1 : 0);
      this.set({ channel: 'redis' }, info.redis ? 1 : 0);
    },
  });
  new Gauge({
    name: 'relaykey_login_throttle_backend',
    help: 'Where failed-login counters live (1 for the backend in use: memory or redis)',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      if (!info) return;
      this.set({ backend: 'memory' }, info.throttleBackend === 'memory' ? 1 : 0);
      this.set({ backend: 'redis' }, info.throttleBackend === 'redis' ? 1 : 0);
    },
  });
  new Counter({
    name: 'relaykey_trusted_proxy_verifications_total',
    help: 'Verifications whose client address was a trusted proxy (RELAYKEY_TRUSTED_PROXIES): not throttled, not network-matched by that address',
    registers: [registry],
    collect() {
      if (!info?.trustedProxyVerifications) return;
      this.reset();
      this.inc(info.trustedProxyVerifications());
    },
  });
  new Counter({
    name: 'relaykey_login_throttle_errors_total',
    help: 'Login attempts that went on unthrottled because the throttle store failed',
    registers: [registry],
    collect() {
      if (!info?.throttleErrors) return;
      this.reset();
      this.inc(info.throttleErrors());
    },
  });
  return {
    verifications: new Counter({
      name: 'relaykey_verifications_total',
      help: 'Verifications by outcome (valid, unknown_key, wrong_user, scope, network, held, revoked, expired, throttled), protocol and surface (verify_api, auth_http)',
      labelNames: ['outcome', 'protocol', 'surface'],
      registers: [registry],
    }),
    verificationDuration: new Histogram({
      name: 'relaykey_verification_duration_seconds',
      help: 'Time to answer a verification (throttle check, lookup, checks), by surface and result (allowed, denied)',
      labelNames: ['surface', 'result'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    deniedLogSuppressed: new Counter({
      name: 'relaykey_denied_log_suppressed_total',
      help: 'Denied-verification log lines left out by the RELAYKEY_DENIED_LOG_PER_SECOND limit',
      registers: [registry],
    }),
    verifyCache: {
      collect(from, feed) {
        source = from;
        info = feed;
      },
    },
  };
}
