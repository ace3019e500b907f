// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { registerCredentialCommands } from './cli/credential-commands.js';
import { registerKeysCommands } from './cli/keys-commands.js';
import { registerDoctorCommand, registerOperationsCommands } from './cli/operations-commands.js';
import { cliCommandRegistrars } from './cli/registry.js';
import { registerWebhookCommands } from './cli/webhook-commands.js';
import { auditCheckpointJob } from './jobs/audit-checkpoint.js';
import { jobsExtension } from './jobs/extension.js';
import { lifecycleJobs } from './jobs/lifecycle-jobs.js';
import { jobRegistry } from './jobs/registry.js';
import { vaultJobs } from './jobs/vault-jobs.js';
import { doveadmKickExtension } from './protocol/dovecot/doveadm-kick.js';
import { registerNginxAuthRoute } from './protocol/nginx/auth-http-route.js';
import { postfixPolicyExtension } from './protocol/postfix/extension.js';
import { runtimeExtensions } from './runtime.js';
import { registerSessionRoutes } from './surfaces/native/session-routes.js';
import { consoleExtension } from './surfaces/console/console-surface.js';
import { registerStatsRoutes } from './surfaces/native/stats-routes.js';
import { seedSurfacesExtension } from './surfaces/seed-surfaces.js';
import { vaultExtension } from './vault-extension.js';
import { verificationStatsSharing } from './verification-stats-sharing.js';
import { webhooksExtension } from './webhooks/extension.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  // Webhooks before jobs: the delivery job needs the webhook service installed.
  runtimeExtensions.push(vaultExtension, webhooksExtension, jobsExtension);
  // Mail-server logins: nginx auth_http, credential sessions and verification stats.
  runtimeExtensions.push({ name: 'protocol', surfaces: [registerNginxAuthRoute, registerSessionRoutes, registerStatsRoutes] });
  // Verification stats shared by every node on the database (the console reads them).
  runtimeExtensions.push(verificationStatsSharing());
  // Dovecot sessions of a revoked or held key are kicked (RELAYKEY_DOVEADM_URLS).
  runtimeExtensions.push(doveadmKickExtension);
  // The seed API surfaces 001, 002 and 003 beside the native API.
  runtimeExtensions.push(seedSurfacesExtension);
  // Postfix asks which senders and how much (RELAYKEY_POLICY_PORT).
  runtimeExtensions.push(postfixPolicyExtension);
  jobRegistry.push(...vaultJobs, ...lifecycleJobs, auditCheckpointJob);
  cliCommandRegistrars.push(registerKeysCommands, registerWebhookCommands, registerCredentialCommands, registerOperationsCommands, registerDoctorCommand);
  // The admin web console at /console.
  runtimeExtensions.push(consoleExtension);
}
