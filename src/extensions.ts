// The one place that lists the capabilities plugged into the runtime and the HTTP app (the CLI's
// command groups are listed in cli/main.ts).
import { auditCheckpointJob } from './jobs/audit-checkpoint.js';
import { jobsExtension } from './jobs/extension.js';
import { lifecycleJobs } from './jobs/lifecycle-jobs.js';
import { vaultJobs } from './jobs/vault-jobs.js';
import { doveadmKickExtension } from './protocol/dovecot/doveadm-kick.js';
import { registerNginxAuthRoute } from './protocol/nginx/auth-http-route.js';
import { postfixPolicyExtension } from './protocol/postfix/extension.js';
import type { Capabilities } from './runtime-types.js';
import { registerSessionRoutes } from './surfaces/native/session-routes.js';
import { consoleExtension } from './surfaces/console/console-surface.js';
import { registerStatsRoutes } from './surfaces/native/stats-routes.js';
import { seedSurfacesExtension } from './surfaces/seed-surfaces.js';
import { vaultExtension } from './vault-extension.js';
import { verificationStatsSharing } from './verification-stats-sharing.js';
import { webhooksExtension } from './webhooks/extension.js';

/** Everything a relaykey runtime is built with beyond the core, in order. */
export const CAPABILITIES: Capabilities = {
  extensions: [
    // Webhooks before jobs: the jobs stop first, then nothing else delivers.
    vaultExtension,
    webhooksExtension,
    jobsExtension,
    // Mail-server logins: nginx auth_http, credential sessions and verification stats.
    { name: 'protocol', surfaces: [registerNginxAuthRoute, registerSessionRoutes, registerStatsRoutes] },
    // Verification stats shared by every node on the database (the console reads them).
    verificationStatsSharing(),
    // Dovecot sessions of a revoked or held key are kicked (RELAYKEY_DOVEADM_URLS).
    doveadmKickExtension,
    // The seed API surfaces 001, 002 and 003 beside the native API.
    seedSurfacesExtension,
    // Postfix asks which senders and how much (RELAYKEY_POLICY_PORT).
    postfixPolicyExtension,
    // The admin web console at /console.
    consoleExtension,
  ],
  jobs: [...vaultJobs, ...lifecycleJobs, auditCheckpointJob],
};
