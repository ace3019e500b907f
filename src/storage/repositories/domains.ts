// Which tenant owns which mail domain, and the aliases of mailbox logins.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface OwnedDomain {
  domain: string;
  tenantId: string;
  createdAt: string;
}

export interface LoginAlias {
  address: string;
  tenantId: string;
  loginId: string;
  createdAt: string;
}

/** Every address-bearing row, for the ownership report. */
export interface AddressRow {
  kind: 'login' | 'alias' | 'smtp_account' | 'tenant_domain';
  id: string;
  tenantId: string;
  address: string;
}

export class DomainRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(domain: OwnedDomain): Promise<void> {
    await this.db.insertInto('tenant_domains').values({ domain: domain.domain, tenant_id: domain.tenantId, created_at: domain.createdAt }).execute();
  }

  async find(domain: string): Promise<OwnedDomain | null> {
    const row = await this.db.selectFrom('tenant_domains').selectAll().where('domain', '=', domain).executeTakeFirst();
    return row ? { domain: row.domain, tenantId: row.tenant_id, createdAt: row.created_at } : null;
  }

  async list(tenantId: string): Promise<OwnedDomain[]> {
    const rows = await this.db.selectFrom('tenant_domains').selectAll().where('tenant_id', '=', tenantId).orderBy('domain').execute();
    return rows.map((row) => ({ domain: row.domain, tenantId: row.tenant_id, createdAt: row.created_at }));
  }

  async delete(domain: string): Promise<void> {
    await this.db.deleteFrom('tenant_domains').where('domain', '=', domain).execute();
  }

  /** How many logins, aliases and vaulted SMTP accounts of the tenant use an address in the domain. */
  async usage(tenantId: string, domain: string): Promise<number> {
    const pattern = `%@${domain}`;
    const logins = await this.db
      .selectFrom('logins')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('address', 'like', pattern)
      .executeTakeFirstOrThrow();
    const aliases = await this.db
      .selectFrom('login_aliases')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('address', 'like', pattern)
      .executeTakeFirstOrThrow();
    const accounts = await this.db
      .selectFrom('smtp_accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('username', 'like', pattern)
      .executeTakeFirstOrThrow();
    return Number(logins.n) + Number(aliases.n) + Number(accounts.n);
  }

  async insertAlias(alias: LoginAlias): Promise<void> {
    await this.db
      .insertInto('login_aliases')
      .values({ address: alias.address, tenant_id: alias.tenantId, login_id: alias.loginId, created_at: alias.createdAt })
      .execute();
  }

  async findAlias(address: string): Promise<LoginAlias | null> {
    const row = await this.db.selectFrom('login_aliases').selectAll().where('address', '=', address).executeTakeFirst();
    return row ? { address: row.address, tenantId: row.tenant_id, loginId: row.login_id, createdAt: row.created_at } : null;
  }

  async listAliases(tenantId: string, loginId: string): Promise<LoginAlias[]> {
    const rows = await this.db
      .selectFrom('login_aliases')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('login_id', '=', loginId)
      .orderBy('address')
      .execute();
    return rows.map((row) => ({ address: row.address, tenantId: row.tenant_id, loginId: row.login_id, createdAt: row.created_at }));
  }

  async deleteAlias(address: string): Promise<void> {
    await this.db.deleteFrom('login_aliases').where('address', '=', address).execute();
  }

  /** Is the address some login's (in any tenant)? */
  async loginWithAddress(address: string): Promise<{ id: string; tenantId: string } | null> {
    const row = await this.db.selectFrom('logins').select(['id', 'tenant_id']).where('address', '=', address).executeTakeFirst();
    return row ? { id: row.id, tenantId: row.tenant_id } : null;
  }

  async allOwners(): Promise<OwnedDomain[]> {
    const rows = await this.db.selectFrom('tenant_domains').selectAll().execute();
    return rows.map((row) => ({ domain: row.domain, tenantId: row.tenant_id, createdAt: row.created_at }));
  }

  /** Every login, alias, vaulted SMTP username and tenant domain (the report checks them in memory). */
  async addressRows(): Promise<AddressRow[]> {
    const logins = await this.db.selectFrom('logins').select(['id', 'tenant_id', 'address']).orderBy('created_at').execute();
    const aliases = await this.db.selectFrom('login_aliases').select(['login_id', 'tenant_id', 'address']).orderBy('created_at').execute();
    const accounts = await this.db.selectFrom('smtp_accounts').select(['id', 'tenant_id', 'username']).orderBy('created_at').execute();
    const tenants = await this.db.selectFrom('tenants').select(['id', 'domain']).where('domain', 'is not', null).orderBy('created_at').execute();
    return [
      ...logins.map((r) => ({ kind: 'login' as const, id: r.id, tenantId: r.tenant_id, address: r.address })),
      ...aliases.map((r) => ({ kind: 'alias' as const, id: r.login_id, tenantId: r.tenant_id, address: r.address })),
      ...accounts.map((r) => ({ kind: 'smtp_account' as const, id: r.id, tenantId: r.tenant_id, address: r.username })),
      ...tenants.map((r) => ({ kind: 'tenant_domain' as const, id: r.id, tenantId: r.id, address: `@${r.domain ?? ''}` })),
    ];
  }
}
