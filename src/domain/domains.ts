// Domains belong to tenants: one owner per domain platform-wide, assigned by a platform admin.
// Logins, aliases and vaulted SMTP usernames live only inside their tenant's domains, so a
// credential of one tenant can never name a mailbox of another.
import { AppError, notFound } from '../errors.js';
import type { AddressRow, LoginAlias, OwnedDomain } from '../storage/repositories/domains.js';
import type { Repositories } from '../storage/store.js';
import { type DomainContext, recordEvent } from './context.js';
import { canonicalAddress, canonicalDomain, domainOf } from './domain-names.js';
import type { Actor } from './types.js';

export type { LoginAlias, OwnedDomain };

/** A row that breaks the ownership rule (kept by the migration, listed for an operator). */
export interface DomainProblem {
  kind: AddressRow['kind'];
  id: string;
  tenantId: string;
  address: string;
  problem: 'domain_not_owned' | 'domain_owned_by_another_tenant' | 'not_canonical';
}

export interface DomainReport {
  problems: DomainProblem[];
  total: number;
  checked: number;
}

const REPORT_LIMIT = 1000;

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e?.message ?? '')
  );
}

/** The canonical domain an admin may assign; `.invalid` names are relaykey's own (canonical identities). */
export function assignableDomain(input: string): string {
  const domain = canonicalDomain(input);
  if (!domain) throw new AppError('VALIDATION_FAILED', `"${input.slice(0, 100)}" is not a domain name`);
  if (domain === 'invalid' || domain.endsWith('.invalid')) throw new AppError('VALIDATION_FAILED', 'domains under .invalid are reserved');
  return domain;
}

export function mailAddress(input: string): string {
  const address = canonicalAddress(input);
  if (!address) throw new AppError('VALIDATION_FAILED', `"${input.slice(0, 100)}" is not a mailbox address`);
  return address;
}

/** Claims the domain for the tenant inside the caller's transaction; already the tenant's: nothing to do. */
export async function claimDomain(repositories: Repositories, tenantId: string, domain: string, at: string): Promise<boolean> {
  const owner = await repositories.domains.find(domain);
  if (owner) {
    if (owner.tenantId === tenantId) return false;
    throw new AppError('DOMAIN_TAKEN', `the domain ${domain} belongs to another tenant`);
  }
  try {
    await repositories.domains.insert({ domain, tenantId, createdAt: at });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('DOMAIN_TAKEN', `the domain ${domain} belongs to another tenant`);
    throw error;
  }
  return true;
}

/** 422 DOMAIN_NOT_OWNED unless the (canonical) address is inside one of the tenant's domains. */
export async function requireOwnedAddress(repositories: Repositories, tenantId: string, address: string): Promise<void> {
  const owner = await repositories.domains.find(domainOf(address));
  if (!owner || owner.tenantId !== tenantId) {
    throw new AppError('DOMAIN_NOT_OWNED', `${address} is not in a domain of this tenant; a platform admin assigns domains to tenants`);
  }
}

export class DomainService {
  constructor(private readonly context: DomainContext) {}

  async list(tenantId: string): Promise<OwnedDomain[]> {
    return this.context.store.domains.list(tenantId);
  }

  /** Assigns a domain to a tenant (platform admins only; the adapter checks). `created` false: it was already the tenant's. */
  async assign(tenantId: string, input: string, actor: Actor): Promise<{ domain: OwnedDomain; created: boolean }> {
    const domain = assignableDomain(input);
    return this.context.store.transaction(async (repositories) => {
      if (!(await repositories.tenants.findById(tenantId))) throw notFound('tenant');
      const at = this.context.clock.now().toISOString();
      const created = await claimDomain(repositories, tenantId, domain, at);
      if (created) {
        await recordEvent(this.context, repositories, {
          tenantId,
          event: 'domain.assigned',
          actor,
          occurredAt: at,
          targetType: 'domain',
          targetId: domain,
          details: { domain },
        });
      }
      return { domain: (await repositories.domains.find(domain)) as OwnedDomain, created };
    });
  }

  async remove(tenantId: string, input: string, actor: Actor): Promise<void> {
    const domain = canonicalDomain(input);
    await this.context.store.transaction(async (repositories) => {
      const tenant = await repositories.tenants.findById(tenantId);
      if (!tenant) throw notFound('tenant');
      const owner = domain ? await repositories.domains.find(domain) : null;
      if (!domain || !owner || owner.tenantId !== tenantId) throw notFound('domain');
      const used = await repositories.domains.usage(tenantId, domain);
      if (used > 0 || (tenant.domain && canonicalDomain(tenant.domain) === domain)) {
        throw new AppError(
          'DOMAIN_IN_USE',
          used > 0
            ? `${used} login(s), alias(es) or SMTP account(s) of this tenant use ${domain}; remove them first`
            : `${domain} is the tenant's primary domain; change the tenant's domain first`,
        );
      }
      await repositories.domains.delete(domain);
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'domain.removed',
        actor,
        occurredAt: this.context.clock.now().toISOString(),
        targetType: 'domain',
        targetId: domain,
        details: { domain },
      });
    });
  }

  async listAliases(tenantId: string, loginId: string): Promise<LoginAlias[]> {
    if (!(await this.context.store.tenants.findLogin(tenantId, loginId))) throw notFound('login');
    return this.context.store.domains.listAliases(tenantId, loginId);
  }

  async addAlias(tenantId: string, loginId: string, input: string, actor: Actor): Promise<LoginAlias> {
    const address = mailAddress(input);
    return this.context.store.transaction(async (repositories) => {
      const login = await repositories.tenants.findLogin(tenantId, loginId);
      if (!login) throw notFound('login');
      await requireOwnedAddress(repositories, tenantId, address);
      if ((await repositories.domains.findAlias(address)) || (await repositories.domains.loginWithAddress(address))) {
        throw new AppError('CONFLICT', `${address} is already a login or an alias`);
      }
      const alias: LoginAlias = { address, tenantId, loginId, createdAt: this.context.clock.now().toISOString() };
      try {
        await repositories.domains.insertAlias(alias);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('CONFLICT', `${address} is already a login or an alias`);
        throw error;
      }
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'login.alias_added',
        actor,
        occurredAt: alias.createdAt,
        targetType: 'login',
        targetId: loginId,
        details: { alias: address },
      });
      return alias;
    });
  }

  async removeAlias(tenantId: string, loginId: string, input: string, actor: Actor): Promise<void> {
    const address = canonicalAddress(input);
    await this.context.store.transaction(async (repositories) => {
      const alias = address ? await repositories.domains.findAlias(address) : null;
      if (!alias || alias.tenantId !== tenantId || alias.loginId !== loginId) throw notFound('alias');
      await repositories.domains.deleteAlias(alias.address);
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'login.alias_removed',
        actor,
        occurredAt: this.context.clock.now().toISOString(),
        targetType: 'login',
        targetId: loginId,
        details: { alias: alias.address },
      });
    });
  }

  /** Rows (from before domains had owners) that break the rule: the migration keeps them, this lists them. */
  async report(): Promise<DomainReport> {
    const owners = new Map((await this.context.store.domains.allOwners()).map((d) => [d.domain, d.tenantId]));
    const rows = await this.context.store.domains.addressRows();
    const problems: DomainProblem[] = [];
    let total = 0;
    for (const row of rows) {
      const problem = check(row, owners);
      if (!problem) continue;
      total += 1;
      if (problems.length < REPORT_LIMIT) problems.push({ kind: row.kind, id: row.id, tenantId: row.tenantId, address: row.address, problem });
    }
    return { problems, total, checked: rows.length };
  }
}

function check(row: AddressRow, owners: Map<string, string>): DomainProblem['problem'] | null {
  const domain = canonicalDomain(domainOf(row.address));
  // A tenant without a domain keeps relaykey's placeholder SMTP username (admin@tenant-<id>.invalid).
  if (row.kind === 'smtp_account' && domain?.endsWith('.invalid')) return null;
  if (!domain) return 'not_canonical';
  const owner = owners.get(domain);
  if (owner === undefined) return 'domain_not_owned';
  if (owner !== row.tenantId) return 'domain_owned_by_another_tenant';
  if (row.kind !== 'tenant_domain' && canonicalAddress(row.address) !== row.address) return 'not_canonical';
  return null;
}
