// Plugs the webhook routes into the app; the service itself is part of the container (domain/services.ts).
import type { RuntimeExtension } from '../runtime-types.js';
import { registerWebhookRoutes } from '../surfaces/native/webhook-routes.js';

export const webhooksExtension: RuntimeExtension = {
  name: 'webhooks',
  surfaces: [registerWebhookRoutes],
};
