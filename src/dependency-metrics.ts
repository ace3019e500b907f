// The state of the node's dependencies in /metrics: the database (ok or the fault that stops
// it), Redis (ready, down, or not configured) and how often the shared throttle fell back to
// this node's own counters; the change feed (listening per channel, or polling: only the cache
// TTL brings other nodes' changes) and the age of its last message.
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
  new Gauge({
    name: 'relaykey_change_feed_up',
    help: 'Change feed channels (postgres: LISTEN/NOTIFY, redis: pub/sub): 1 listening, 0 configured but not listening now',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { channel, listening } of runtime.changeFeedStatus()) this.set({ channel }, listening ? 1 : 0);
    },
  });
  new Gauge({
    name: 'relaykey_change_feed_polling',
    help: 'No change feed channel is listening (1): changes made on other nodes or by the CLI reach this node only when its verify cache entries expire (RELAYKEY_VERIFY_CACHE_TTL_MS)',
    registers: [registry],
    collect() {
      this.set(runtime.changeFeedStatus().some((s) => s.listening) ? 0 : 1);
    },
  });
  new Gauge({
    name: 'relaykey_change_feed_last_event_age_seconds',
    help: 'Seconds since the last message on each change feed channel (this node own announcements included); absent before the first',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const { channel, lastEventAt } of runtime.changeFeedStatus()) if (lastEventAt !== null) this.set({ channel }, (now - lastEventAt) / 1000);
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
