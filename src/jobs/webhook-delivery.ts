// webhook-delivery: sends the due rows of the outbox (see webhooks/delivery.ts).
import type { Runtime } from '../runtime-types.js';
import { deliverDueWebhooks } from '../webhooks/delivery.js';
import type { JobDefinition } from './job.js';

export const webhookDeliveryJob: JobDefinition = {
  name: 'webhook-delivery',
  intervalMs: 5_000,
  run: (runtime: Runtime) => deliverDueWebhooks(runtime, runtime.services.webhooks),
};
