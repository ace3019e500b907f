// The vault's background jobs: rotate passwords whose checkout expired, and rotate every
// account on its schedule. Each account is rotated once even with several processes: the
// row is taken with SKIP LOCKED and the swap is conditional on its secret_version.
import type { Runtime } from '../runtime-types.js';
import type { JobDefinition } from './job.js';

function logFailure(runtime: Runtime, job: string) {
  return (tenantId: string, error: unknown) => runtime.logger.error({ err: error, job, tenantId }, `${job}: rotating the SMTP account failed`);
}

export const checkoutExpiryJob: JobDefinition = {
  name: 'checkout-expiry',
  intervalMs: 30_000,
  run: (runtime) => runtime.services.vault.expireCheckouts(logFailure(runtime, 'checkout-expiry')),
};

export const smtpScheduledRotationJob: JobDefinition = {
  name: 'smtp-scheduled-rotation',
  intervalMs: 15 * 60_000,
  run: (runtime) => runtime.services.vault.rotateScheduled(logFailure(runtime, 'smtp-scheduled-rotation')),
};

export const vaultJobs: JobDefinition[] = [checkoutExpiryJob, smtpScheduledRotationJob];
