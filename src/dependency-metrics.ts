// The state of the node's dependencies in /metrics: the database (ok or the fault that stops
// it), Redis (ready, down, or not configured) and how often the shared throttle fell back to
// this node's own counters.
import { Counter, Gauge } from 'prom-client';
import { DATABASE_FAULT_CODES } from './errors.js';
import type { Runtime } from './runtime-types.js';

export function installDependencyMetrics(runtime: Runtime): void {
  const { registry } = runtime.services.metrics;
  const health = runtime.handle.health;
  new Gauge({
    name: 'relaykey_database_up',
    help: 'Whether the database answers (1) or is in a fault state (0)',
    registers: [registry],
    collect() {
      this.set(health.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'relaykey_database_fault',
    help: 'The database fault this node sees now, by code (1 = current)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const code of DATABASE_FAULT_CODES) this.set({ code }, health.state === code ? 1 : 0);
    },
  });
  new Gauge({
    name: 'relaykey_redis_up',
    help: 'Whether Redis is connected (1), down (0) or not configured (-1)',
    registers: [registry],
    collect() {
      const state = runtime.redisState();
      this.set(state === 'ready' ? 1 : state === 'down' ? 0 : -1);
    },
  });
  let reported = 0;
  new Counter({
    name: 'relaykey_redis_throttle_fallbacks_total',
    help: 'Throttle calls answered by this node own counters because Redis failed or was slower than RELAYKEY_REDIS_TIMEOUT_MS',
    registers: [registry],
    collect() {
      const now = runtime.throttleFallbacks();
      if (now > reported) this.inc(now - reported);
      reported = now;
    },
  });
}
