// Plugs webhooks into the runtime: the service, the outbox hook and the native routes.
import type { Services } from '../domain/services.js';
import type { RuntimeExtension } from '../runtime.js';
import { registerWebhookRoutes } from '../surfaces/native/webhook-routes.js';
import { writeOutbox } from './outbox.js';
import { WebhookService } from './service.js';

const byServices = new WeakMap<Services, WebhookService>();

export function webhooksOf(services: Services): WebhookService {
  const service = byServices.get(services);
  if (!service) throw new Error('the webhooks extension is not installed in this runtime');
  return service;
}

export const webhooksExtension: RuntimeExtension = {
  name: 'webhooks',
  install(runtime) {
    byServices.set(runtime.services, new WebhookService(runtime.services.context, runtime.rootKeys, runtime.config.webhookAllowNetworks));
    runtime.services.context.onRecordedEvent.push(writeOutbox);
  },
  surfaces: [registerWebhookRoutes],
};
