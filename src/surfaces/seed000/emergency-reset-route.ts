// POST .../smtp-credentials/emergency-reset {incident_id, reason}: new password now, shown once
// under a fresh checkout, to an admin with an X-Reauth-Token of the same session (it answers a
// vaulted secret); the same incident id a second time is a 409 that changes nothing.
import type { Services } from '../../domain/services.js';
import { actorOf } from '../authentication.js';
import { isoSeconds } from '../compat.js';
import type { App } from '../native/types.js';
import { adminOnTenant, base64, reauthDeniedFor, tenantIdOf } from './guard.js';
import { BASE_PATH, EmergencyResetBody, EmergencyResetReply, TenantIdParams } from './schemas.js';

export function registerEmergencyResetRoute(app: App, services: Services): void {
  app.post(
    `${BASE_PATH}/emergency-reset`,
    {
      config: { action: 'vault.emergency-reset', reauthDenied: reauthDeniedFor(services) },
      schema: {
        tags: ['seed000'],
        summary: 'Emergency reset of SMTP credentials (admin); closes any open checkout',
        params: TenantIdParams,
        body: EmergencyResetBody,
        response: { 200: EmergencyResetReply },
      },
      preValidation: adminOnTenant(services),
    },
    async (request, reply) => {
      const reset = await services.vault.emergencyReset(
        tenantIdOf(request),
        { incidentId: request.body.incident_id, reason: request.body.reason },
        actorOf(request),
      );
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        success: true as const,
        username: reset.username,
        password: base64(reset.password),
        webmail_url: reset.webmailUrl,
        expires_at: isoSeconds(reset.expiresAt),
        incident_id: reset.incidentId,
      };
    },
  );
}
