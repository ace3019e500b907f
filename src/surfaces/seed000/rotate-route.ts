// POST .../smtp-credentials/rotate {reason}: a new password now; the old one stops verifying.
import type { Services } from '../../domain/services.js';
import { vaultOf } from '../../domain/vault.js';
import { actorOf } from '../authentication.js';
import type { App } from '../native/types.js';
import { adminOnTenant, tenantIdOf } from './guard.js';
import { BASE_PATH, RotateBody, RotateReply, TenantIdParams } from './schemas.js';

export function registerRotateRoute(app: App, services: Services): void {
  app.post(
    `${BASE_PATH}/rotate`,
    {
      schema: {
        tags: ['seed000'],
        summary: 'Rotate SMTP credentials (admin)',
        params: TenantIdParams,
        body: RotateBody,
        response: { 200: RotateReply },
      },
      preValidation: adminOnTenant(services),
    },
    async (request) => {
      const rotated = await vaultOf(services).rotate(tenantIdOf(request), request.body.reason, actorOf(request));
      return { success: true as const, rotated_at: rotated.rotatedAt, next_rotation: rotated.nextRotation };
    },
  );
}
