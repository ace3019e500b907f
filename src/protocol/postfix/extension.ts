// Starts the Postfix policy delegation listener when RELAYKEY_POLICY_PORT is set (off by default).
import type { RuntimeExtension } from '../../runtime-types.js';
import { installSendingPolicyMetrics } from './metrics.js';
import { type PolicyListener, startPolicyListener } from './policy-listener.js';
import { registerUsageRoute } from './usage-route.js';
import { policyDecider } from './policy-service.js';

const listeners = new WeakMap<object, PolicyListener>();

export const postfixPolicyExtension: RuntimeExtension = {
  name: 'postfix-policy',
  install(runtime) {
    installSendingPolicyMetrics(runtime);
  },
  surfaces: [registerUsageRoute],
  async start(runtime) {
    const { policy } = runtime.config;
    if (policy.port === undefined) return;
    let errorLoggedAt = 0;
    const listener = await startPolicyListener({
      host: policy.host,
      port: policy.port,
      maxConnections: policy.maxConnections,
      idleTimeoutMs: policy.idleTimeoutMs,
      decisionTimeoutMs: policy.decisionTimeoutMs,
      decide: policyDecider(runtime.services.sendingPolicy),
      onError(error) {
        // At most one line a minute: a failing database must not flood the log.
        if (Date.now() - errorLoggedAt < 60_000) return;
        errorLoggedAt = Date.now();
        runtime.logger.error({ err: error }, 'sending policy decision failed; answered DEFER_IF_PERMIT 4.3.0');
      },
    });
    listeners.set(runtime, listener);
    runtime.logger.info({ host: policy.host, port: listener.port }, 'Postfix policy listener started');
  },
  async stop(runtime) {
    await listeners.get(runtime)?.close();
    listeners.delete(runtime);
  },
};

/** The port the runtime's policy listener took (tests start it on port 0). */
export function policyListenerPort(runtime: object): number | undefined {
  return listeners.get(runtime)?.port;
}
