// GET .../smtp-credentials: reveal the password (admin + X-Reauth-Token of the same session,
// checked by the policy hook), opening a 15-minute checkout.
import type { Services } from '../../domain/services.js';
import { actorOf } from '../authentication.js';
import { isoSeconds } from '../compat.js';
import type { App } from '../native/types.js';
import { adminOnTenant, base64, reauthDeniedFor, tenantIdOf } from './guard.js';
import { BASE_PATH, CredentialsReply, TenantIdParams } from './schemas.js';

export function registerRevealRoute(app: App, services: Services): void {
  app.get(
    BASE_PATH,
    {
      config: { action: 'vault.reveal', reauthDenied: reauthDeniedFor(services) },
      schema: {
        tags: ['seed000'],
        summary: 'Get SMTP credentials (admin; needs X-Reauth-Token); opens a 15-minute checkout',
        params: TenantIdParams,
        response: { 200: CredentialsReply },
      },
      preValidation: adminOnTenant(services),
    },
    async (request, reply) => {
      const tenantId = tenantIdOf(request);
      const vault = services.vault;
      const revealed = await vault.reveal(tenantId, actorOf(request));
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        username: revealed.username,
        password: base64(revealed.password),
        webmail_url: revealed.webmailUrl,
        created_at: isoSeconds(revealed.createdAt),
        last_rotated: isoSeconds(revealed.lastRotated),
        next_rotation: isoSeconds(revealed.nextRotation),
        expires_at: isoSeconds(revealed.expiresAt),
      };
    },
  );
}
