// The vault as a platform admin watches it: which SMTP passwords are checked out right now (and
// ending one early, which rotates the password), and the root key's status (`relaykey keys status`).
import type { Services } from '../../domain/services.js';
import { actorOf, requirePrincipal, requireTenantPrincipal } from '../authentication.js';
import type { OpenCheckout } from '../../storage/repositories/vault.js';
import { CheckoutEndedReply, ListOf, RootKeyStatusReply, replies, SmtpAccountStatusReply, VaultCheckoutReply } from './replies.js';
import { TenantParams } from './schemas.js';
import type { App } from './types.js';

function presentCheckout(c: OpenCheckout) {
  return {
    tenant_id: c.tenantId,
    tenant_name: c.tenantName,
    username: c.username,
    checked_out_by: c.adminId,
    checked_out_by_email: c.adminEmail,
    expires_at: c.expiresAt,
    last_rotated: c.lastRotated,
  };
}

export function registerVaultRoutes(app: App, services: Services): void {
  app.get(
    '/api/v1/vault/checkouts',
    {
      config: { action: 'vault.status.read' },
      schema: {
        response: replies({ 200: ListOf(VaultCheckoutReply) }),
        tags: ['vault'],
        summary: 'Vaulted SMTP passwords checked out right now, soonest expiry first (admin); never the passwords',
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      return { data: (await services.vault.listOpenCheckouts()).map(presentCheckout) };
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/smtp-account',
    {
      config: { action: 'vault.status.read' },
      schema: {
        response: replies({ 200: SmtpAccountStatusReply }),
        tags: ['vault'],
        summary: "The tenant's vaulted SMTP account without its password (admin): rotation times and the open checkout, if any",
        params: TenantParams,
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      const status = await services.vault.accountStatus(request.params.tenantId);
      return {
        username: status.username,
        last_rotated: status.lastRotated,
        next_rotation: status.nextRotation,
        checkout: status.checkout ? presentCheckout(status.checkout) : null,
      };
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/smtp-account/checkout',
    {
      config: { action: 'vault.checkouts.end' },
      schema: {
        response: replies({ 200: CheckoutEndedReply }),
        tags: ['vault'],
        summary: 'End the open checkout now (admin): the revealed password is rotated at once; 409 INVALID_STATE when none is open',
        params: TenantParams,
      },
    },
    async (request) => {
      await requireTenantPrincipal(services, request, request.params.tenantId, ['admin']);
      const rotated = await services.vault.endCheckout(request.params.tenantId, actorOf(request));
      return { ended: true as const, rotated_at: rotated.rotatedAt, next_rotation: rotated.nextRotation };
    },
  );

  app.get(
    '/api/v1/vault/root-key',
    {
      config: { action: 'vault.root-key.read' },
      schema: {
        response: replies({ 200: RootKeyStatusReply }),
        tags: ['vault'],
        summary: 'Root key status (admin): whether this node holds the key the database was sealed with, its versions, data keys per version',
      },
    },
    async (request) => {
      await requirePrincipal(services, request, ['admin']);
      const status = await services.vault.rootKeyStatus();
      return {
        master_key: status.masterKey,
        key_check: status.keyCheck,
        source: status.source,
        current_version: status.currentVersion,
        known_versions: status.knownVersions,
        data_keys_by_version: status.dataKeysByVersion,
        data_keys_not_current: status.dataKeysNotCurrent,
      };
    },
  );
}
