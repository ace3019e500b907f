// Tenants and their mailbox logins.
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { Login, Page, PageRequest, Tenant } from '../../domain/types.js';
import type { Database, LoginsTable, TenantsTable } from '../schema.js';
import { parseJson } from './json.js';

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    name: row.name,
    domain: row.domain,
    webmailUrl: row.webmail_url,
    connectionInfo: parseJson(row.connection_info, {} as Tenant['connectionInfo']),
    mailBackends: parseJson(row.mail_backends, null),
    settings: parseJson(row.settings, {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Every column but credential_count, which only the credentials repository moves on. */
function toRow(tenant: Tenant): Omit<Selectable<TenantsTable>, 'credential_count'> {
  return {
    id: tenant.id,
    name: tenant.name,
    domain: tenant.domain,
    webmail_url: tenant.webmailUrl,
    connection_info: JSON.stringify(tenant.connectionInfo),
    mail_backends: tenant.mailBackends ? JSON.stringify(tenant.mailBackends) : null,
    settings: JSON.stringify(tenant.settings),
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  };
}

function toLogin(row: Selectable<LoginsTable>): Login {
  return { id: row.id, tenantId: row.tenant_id, address: row.address, createdAt: row.created_at };
}

export class TenantRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(tenant: Tenant): Promise<void> {
    await this.db.insertInto('tenants').values(toRow(tenant)).execute();
  }

  async update(tenant: Tenant): Promise<void> {
    const { id, created_at: _createdAt, ...changes } = toRow(tenant);
    await this.db.updateTable('tenants').set(changes).where('id', '=', id).execute();
  }

  async findById(id: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toTenant(row) : null;
  }

  async list(request: PageRequest & { search?: string }): Promise<Page<Tenant>> {
    let query = this.db.selectFrom('tenants');
    if (request.search) {
      const pattern = `%${request.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // ESCAPE is explicit: SQLite's LIKE has no escape character unless one is named.
      query = query.where(sql<boolean>`(lower(name) like ${pattern} escape '\\' or lower(domain) like ${pattern} escape '\\')`);
    }
    const countRow = await query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await query
      .selectAll()
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toTenant), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  async insertLogin(login: Login): Promise<void> {
    await this.db.insertInto('logins').values({ id: login.id, tenant_id: login.tenantId, address: login.address, created_at: login.createdAt }).execute();
  }

  async findLogin(tenantId: string, loginId: string): Promise<Login | null> {
    const row = await this.db.selectFrom('logins').selectAll().where('tenant_id', '=', tenantId).where('id', '=', loginId).executeTakeFirst();
    return row ? toLogin(row) : null;
  }

  async findLoginByAddress(tenantId: string, address: string): Promise<Login | null> {
    const row = await this.db.selectFrom('logins').selectAll().where('tenant_id', '=', tenantId).where('address', '=', address).executeTakeFirst();
    return row ? toLogin(row) : null;
  }

  async listLogins(tenantId: string, request: PageRequest): Promise<Page<Login>> {
    const base = this.db.selectFrom('logins').where('tenant_id', '=', tenantId);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll()
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(request.perPage)
      .offset((request.page - 1) * request.perPage)
      .execute();
    return { items: rows.map(toLogin), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }
}
