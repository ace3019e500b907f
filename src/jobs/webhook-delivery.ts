// webhook-delivery: sends the due rows of the outbox (see webhooks/delivery.ts).
import type { Runtime } from '../runtime.js';
import { deliverDueWebhooks } from '../webhooks/delivery.js';
import { webhooksOf } from '../webhooks/extension.js';
import type { JobDefinition } from './job.js';

export const webhookDeliveryJob: JobDefinition = {
  name: 'webhook-delivery',
  intervalMs: 5_000,
  run: (runtime: Runtime) => deliverDueWebhooks(runtime, webhooksOf(runtime.services)),
};
