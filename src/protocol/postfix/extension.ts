// Starts the Postfix policy delegation listener when RELAYKEY_POLICY_PORT is set (off by default).
import type { Runtime, RuntimeExtension } from '../../runtime-types.js';
import { installSendingPolicyMetrics } from './metrics.js';
import { startPolicyListener } from './policy-listener.js';
import { registerUsageRoute } from './usage-route.js';
import { policyDecider } from './policy-service.js';

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
    runtime.listeners.policy = listener;
    runtime.logger.info({ host: policy.host, port: listener.port }, 'Postfix policy listener started');
  },
  async stop(runtime) {
    const listener = runtime.listeners.policy;
    delete runtime.listeners.policy;
    await listener?.close();
  },
};

/** The port the runtime's policy listener took (tests start it on port 0). */
export function policyListenerPort(runtime: Runtime): number | undefined {
  return runtime.listeners.policy?.port;
}
