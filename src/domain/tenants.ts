// Tenants (the unit of isolation) and their mailbox logins.
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../errors.js';
import type { Repositories } from '../storage/store.js';
import { announceTenantChange, type DomainContext, recordEvent } from './context.js';
import { canonicalAddress } from './domain-names.js';
import { checkAllowedSenders } from './sending-policy.js';
import { assignableDomain, claimDomain, mailAddress, requireOwnedAddress } from './domains.js';
import type { Actor, ConnectionInfo, Login, MailBackends, Page, PageRequest, Tenant, TenantSettings } from './types.js';

export interface TenantInput {
  name: string;
  domain?: string | null;
  webmailUrl?: string | null;
  connectionInfo?: Partial<{ [K in keyof ConnectionInfo]: Partial<ConnectionInfo[K]> }>;
  mailBackends?: MailBackends | null;
  settings?: TenantSettings;
}

export function defaultConnectionInfo(domain: string | null): ConnectionInfo {
  const host = (service: string) => (domain ? `${service}.${domain}` : `${service}.example.com`);
  return {
    smtp: { serverName: host('smtp'), port: 587, securePort: 465, enabled: true },
    pop3: { serverName: host('pop3'), port: 110, securePort: 995, enabled: true },
    imap: { serverName: host('imap'), port: 143, securePort: 993, enabled: true },
  };
}

function mergeConnectionInfo(base: ConnectionInfo, patch: TenantInput['connectionInfo']): ConnectionInfo {
  if (!patch) return base;
  return {
    smtp: { ...base.smtp, ...patch.smtp },
    pop3: { ...base.pop3, ...patch.pop3 },
    imap: { ...base.imap, ...patch.imap },
  };
}

export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** The tenant's default allowed senders, in canonical form, each inside one of its domains (422 otherwise). */
async function checkTenantSenders(repositories: Repositories, tenant: Tenant): Promise<void> {
  const entries = tenant.settings.defaultAllowedSenders;
  if (!entries) return;
  try {
    tenant.settings.defaultAllowedSenders = await checkAllowedSenders(repositories, tenant.id, entries);
  } catch (error) {
    if (error instanceof AppError) throw new AppError(error.code, error.message.replace(/^allowed_senders/, 'settings.default_allowed_senders'));
    throw error;
  }
}

export class TenantService {
  constructor(private readonly context: DomainContext) {}

  /** Creates the tenant; `afterInsert` lets the vault provision the SMTP account in the same transaction. */
  async create(input: TenantInput, actor: Actor, afterInsert?: (tenant: Tenant, repositories: Repositories) => Promise<void>): Promise<Tenant> {
    const now = this.context.clock.now().toISOString();
    const domain = input.domain ? assignableDomain(input.domain) : null;
    const tenant: Tenant = {
      id: randomUUID(),
      name: input.name,
      domain,
      webmailUrl: input.webmailUrl ?? null,
      connectionInfo: mergeConnectionInfo(defaultConnectionInfo(domain), input.connectionInfo),
      mailBackends: input.mailBackends ?? null,
      settings: input.settings ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await this.context.store.transaction(async (repositories) => {
      await repositories.tenants.insert(tenant);
      if (domain) await claimDomain(repositories, tenant.id, domain, now);
      await checkTenantSenders(repositories, tenant);
      await recordEvent(this.context, repositories, {
        tenantId: tenant.id,
        event: 'tenant.created',
        actor,
        occurredAt: now,
        targetType: 'tenant',
        targetId: tenant.id,
        details: { name: tenant.name, domain: tenant.domain },
      });
      if (afterInsert) await afterInsert(tenant, repositories);
    });
    return tenant;
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.context.store.tenants.findById(id);
    if (!tenant) throw notFound('tenant');
    return tenant;
  }

  list(request: PageRequest & { search?: string }): Promise<Page<Tenant>> {
    return this.context.store.tenants.list(request);
  }

  async update(id: string, patch: Partial<TenantInput>, actor: Actor): Promise<Tenant> {
    const updated = await this.context.store.transaction(async (repositories) => {
      const current = await repositories.tenants.findById(id);
      if (!current) throw notFound('tenant');
      const domain = patch.domain ? assignableDomain(patch.domain) : patch.domain;
      // The primary domain is one of the tenant's domains: setting it claims it (admins only).
      if (domain) await claimDomain(repositories, id, domain, this.context.clock.now().toISOString());
      const updated: Tenant = {
        ...current,
        name: patch.name ?? current.name,
        domain: domain === undefined ? current.domain : domain,
        webmailUrl: patch.webmailUrl === undefined ? current.webmailUrl : patch.webmailUrl,
        connectionInfo: mergeConnectionInfo(current.connectionInfo, patch.connectionInfo),
        mailBackends: patch.mailBackends === undefined ? current.mailBackends : patch.mailBackends,
        settings: patch.settings === undefined ? current.settings : { ...current.settings, ...patch.settings },
        updatedAt: this.context.clock.now().toISOString(),
      };
      if (patch.settings?.defaultAllowedSenders) await checkTenantSenders(repositories, updated);
      await repositories.tenants.update(updated);
      await recordEvent(this.context, repositories, {
        tenantId: id,
        event: 'tenant.updated',
        actor,
        occurredAt: updated.updatedAt,
        targetType: 'tenant',
        targetId: id,
        details: { fields: Object.keys(patch).sort() },
      });
      return updated;
    });
    // After the commit: every node's mail router drops its cached backends of this tenant.
    if (patch.mailBackends !== undefined) announceTenantChange(this.context, id);
    return updated;
  }

  async createLogin(tenantId: string, address: string, actor: Actor): Promise<Login> {
    const normalised = mailAddress(address);
    return this.context.store.transaction(async (repositories) => {
      if (!(await repositories.tenants.findById(tenantId))) throw notFound('tenant');
      await requireOwnedAddress(repositories, tenantId, normalised);
      if (await repositories.tenants.findLoginByAddress(tenantId, normalised)) {
        throw new AppError('CONFLICT', `login ${normalised} already exists in this tenant`);
      }
      if (await repositories.domains.findAlias(normalised)) throw new AppError('CONFLICT', `${normalised} is already an alias of a login`);
      const login: Login = { id: randomUUID(), tenantId, address: normalised, createdAt: this.context.clock.now().toISOString() };
      await repositories.tenants.insertLogin(login);
      await recordEvent(this.context, repositories, {
        tenantId,
        event: 'login.created',
        actor,
        occurredAt: login.createdAt,
        targetType: 'login',
        targetId: login.id,
        details: { address: login.address },
      });
      return login;
    });
  }

  async getLogin(tenantId: string, loginId: string): Promise<Login> {
    const login = await this.context.store.tenants.findLogin(tenantId, loginId);
    if (!login) throw notFound('login');
    return login;
  }

  /** Finds a login by id or by address (the CLI accepts either). */
  async resolveLogin(tenantId: string, idOrAddress: string): Promise<Login> {
    const login =
      (await this.context.store.tenants.findLogin(tenantId, idOrAddress)) ??
      (await this.context.store.tenants.findLoginByAddress(tenantId, canonicalAddress(idOrAddress) ?? normaliseAddress(idOrAddress)));
    if (!login) throw notFound('login');
    return login;
  }

  listLogins(tenantId: string, request: PageRequest): Promise<Page<Login>> {
    return this.context.store.tenants.listLogins(tenantId, request);
  }
}
