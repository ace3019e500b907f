// POST .../smtp-credentials/rotate {reason}: a new password now; the old one stops verifying.
import type { Services } from '../../domain/services.js';
import { actorOf } from '../authentication.js';
import { isoSeconds } from '../compat.js';
import { readEmptyBodyAsObject } from '../empty-body.js';
import type { App } from '../native/types.js';
import { adminOnTenant, tenantIdOf } from './guard.js';
import { BASE_PATH, RotateBody, RotateReply, TenantIdParams } from './schemas.js';

export async function registerRotateRoute(app: App, services: Services): Promise<void> {
  // No body, an empty JSON body and `{}` all mean: rotate, no reason given.
  await app.register(async (scoped: App) => {
    readEmptyBodyAsObject(scoped);
    registerRoute(scoped, services);
  });
}

function registerRoute(app: App, services: Services): void {
  app.post(
    `${BASE_PATH}/rotate`,
    {
      config: { action: 'vault.rotate' },
      schema: {
        tags: ['seed000'],
        summary: 'Rotate SMTP credentials (admin); the reason is optional',
        description: 'No body, an empty body or `{}` rotate as well; the audit event then records `reason: null`.',
        params: TenantIdParams,
        body: RotateBody,
        response: { 200: RotateReply },
      },
      preValidation: adminOnTenant(services),
    },
    async (request) => {
      const rotated = await services.vault.rotate(tenantIdOf(request), request.body.reason ?? null, actorOf(request));
      return { success: true as const, rotated_at: isoSeconds(rotated.rotatedAt), next_rotation: isoSeconds(rotated.nextRotation) };
    },
  );
}
