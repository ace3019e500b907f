// GET .../smtp-credentials: reveal the password (admin + X-Reauth-Token of the same session),
// opening a 15-minute checkout.
import type { Principal } from '../../domain/access.js';
import type { Services } from '../../domain/services.js';
import { type ReauthOutcome, vaultOf } from '../../domain/vault.js';
import { AppError, type ErrorCode } from '../../errors.js';
import { actorOf } from '../authentication.js';
import { isoSeconds } from '../compat.js';
import type { App } from '../native/types.js';
import { adminOnTenant, base64, tenantIdOf } from './guard.js';
import { BASE_PATH, CredentialsReply, TenantIdParams } from './schemas.js';

const REAUTH_ERRORS: Record<ReauthOutcome, ErrorCode> = {
  missing: 'REAUTH_REQUIRED',
  invalid: 'REAUTH_INVALID',
  expired: 'REAUTH_EXPIRED',
  foreign: 'REAUTH_SESSION_MISMATCH',
};

export function registerRevealRoute(app: App, services: Services): void {
  app.get(
    BASE_PATH,
    {
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
      const vault = vaultOf(services);
      const header = request.headers['x-reauth-token'];
      const outcome = await services.access.checkReauth(request.principal as Principal, typeof header === 'string' ? header.trim() || undefined : undefined);
      if (outcome !== 'ok') {
        await vault.recordAccessDenied(tenantId, outcome, actorOf(request));
        throw new AppError(REAUTH_ERRORS[outcome]);
      }
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
