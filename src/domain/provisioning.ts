// Tenant creation plus whatever each tenant must come with (its vaulted SMTP account),
// all in one transaction.
import type { Repositories } from '../storage/store.js';
import { mailAddress, requireOwnedAddress } from './domains.js';
import type { TenantInput, TenantService } from './tenants.js';
import type { Actor, Tenant } from './types.js';

export interface ProvisioningOptions {
  smtpUsername: string;
  actor: Actor;
}

export type TenantProvisioner = (tenant: Tenant, repositories: Repositories, options: ProvisioningOptions) => Promise<void>;

export function defaultSmtpUsername(tenant: Tenant): string {
  return tenant.domain ? `admin@${tenant.domain}` : `admin@tenant-${tenant.id.slice(0, 8)}.invalid`;
}

export class ProvisioningService {
  readonly provisioners: TenantProvisioner[] = [];

  constructor(private readonly tenants: TenantService) {}

  async createTenant(input: TenantInput & { smtpUsername?: string }, actor: Actor): Promise<{ tenant: Tenant; smtpUsername: string }> {
    let smtpUsername = '';
    const tenant = await this.tenants.create(input, actor, async (created, repositories) => {
      if (input.smtpUsername) {
        // Like a login, the vaulted account's username lives inside the tenant's own domains.
        smtpUsername = mailAddress(input.smtpUsername);
        await requireOwnedAddress(repositories, created.id, smtpUsername);
      } else smtpUsername = defaultSmtpUsername(created);
      for (const provision of this.provisioners) await provision(created, repositories, { smtpUsername, actor });
    });
    return { tenant, smtpUsername };
  }
}
