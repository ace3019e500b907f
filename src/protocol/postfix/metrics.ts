// The sending policy in /metrics: decisions by verdict, open policy connections, counter fallbacks.
import { Counter } from 'prom-client';
import type { Runtime } from '../../runtime-types.js';

export function installSendingPolicyMetrics(runtime: Runtime): void {
  const { registry } = runtime.services.metrics;
  const policy = runtime.services.sendingPolicy;
  const reported = { allow: 0, reject: 0, defer: 0, foreign: 0 };
  new Counter({
    name: 'relaykey_sending_policy_decisions_total',
    help: 'Postfix policy decisions by verdict: allow (DUNNO), reject (5.7.1), defer (4.7.1 over quota), foreign (an identity relaykey did not hand out: DUNNO)',
    labelNames: ['verdict'],
    registers: [registry],
    collect() {
      for (const verdict of ['allow', 'reject', 'defer', 'foreign'] as const) {
        const now = policy.stats[verdict];
        if (now > reported[verdict]) this.inc({ verdict }, now - reported[verdict]);
        reported[verdict] = now;
      }
    },
  });
  let holds = 0;
  new Counter({
    name: 'relaykey_sending_auto_holds_total',
    help: 'Credentials held by auto-hold on abuse (past a multiple of a quota, or too many new countries within an hour)',
    registers: [registry],
    collect() {
      const now = policy.stats.autoHolds;
      if (now > holds) this.inc(now - holds);
      holds = now;
    },
  });
  let fallbacks = 0;
  new Counter({
    name: 'relaykey_sending_counter_fallbacks_total',
    help: 'Quota counter calls answered by the database because Redis failed',
    registers: [registry],
    collect() {
      const now = (policy.counters as { fallbacks?: number }).fallbacks ?? 0;
      if (now > fallbacks) this.inc(now - fallbacks);
      fallbacks = now;
    },
  });
}
