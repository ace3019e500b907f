// The credential lifecycle and webhook jobs this module owns, in the order they are registered.
import { credentialExpiryJob } from './credential-expiry.js';
import { inactivityRevocationJob } from './inactivity-revocation.js';
import type { JobDefinition } from './job.js';
import { sessionPruningJob } from './session-pruning.js';
import { webhookDeliveryJob } from './webhook-delivery.js';

export const lifecycleJobs: JobDefinition[] = [credentialExpiryJob, inactivityRevocationJob, sessionPruningJob, webhookDeliveryJob];
