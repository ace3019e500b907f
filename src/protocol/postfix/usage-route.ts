// GET /api/v1/tenants/:tenantId/credentials/:credentialId/usage: what a credential sent in the
// current UTC hour and day (the counters the Postfix policy enforces), rejects and defers.
import { Type } from 'typebox';
import type { Services } from '../../domain/services.js';
import { credentialUsage } from '../../domain/sending-policy.js';
import { notFound } from '../../errors.js';
import { loginScopeOf, requireTenantPrincipal } from '../../surfaces/authentication.js';
import { presentSendingLimits } from '../../surfaces/native/presenters.js';
import { UsageReply } from '../../surfaces/native/replies.js';
import { Uuid } from '../../surfaces/native/schemas.js';
import type { App } from '../../surfaces/native/types.js';

const Params = Type.Object({ tenantId: Uuid, credentialId: Uuid }, { additionalProperties: false });
export function registerUsageRoute(app: App, services: Services): void {
  app.get(
    '/api/v1/tenants/:tenantId/credentials/:credentialId/usage',
    {
      config: { action: 'credentials.usage' },
      schema: {
        tags: ['credentials'],
        summary: 'Sent messages and recipients in the current UTC hour and day, rejects and defers, and the limits that apply',
        params: Params,
        response: { 200: UsageReply },
      },
    },
    async (request) => {
      const { tenantId, credentialId } = request.params;
      const principal = await requireTenantPrincipal(services, request, tenantId, ['admin', 'bearer']);
      const credential = await services.credentials.get({ tenantId, loginId: loginScopeOf(principal) }, credentialId);
      const tenant = await services.tenants.get(tenantId).catch(() => null);
      if (!tenant) throw notFound('tenant');
      const usage = await credentialUsage(services.sendingPolicy, services.context, credential, tenant);
      const window = (w: typeof usage.hour) => ({
        window_start: w.windowStart,
        messages: w.messages,
        recipients: w.recipients,
        rejected: w.rejected,
        deferred: w.deferred,
      });
      const limits = presentSendingLimits(usage.limits) ?? {
        messages_per_hour: null,
        messages_per_day: null,
        recipients_per_message: null,
        recipients_per_day: null,
      };
      return { credential_id: credential.id, counted_for: usage.subject, limits, hour: window(usage.hour), day: window(usage.day) };
    },
  );
}
