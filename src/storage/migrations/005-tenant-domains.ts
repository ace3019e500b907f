// Domains belong to tenants (one owner platform-wide, canonical spelling as the key) and logins
// may have aliases. Existing tenants keep their domain when no earlier tenant claimed the same
// one; rows that break the ownership rule are not changed or refused here: the domain report
// (GET /api/v1/domain-report, `relaykey domain check`) lists them for an operator to fix.
import { type Kysely, sql } from 'kysely';
import { canonicalDomain } from '../../domain/domain-names.js';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('tenant_domains')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tenant_domains_tenant_idx').on('tenant_domains').columns(['tenant_id', 'domain']).execute();

  await db.schema
    .createTable('login_aliases')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('login_id', 'text', (c) => c.notNull().references('logins.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_aliases_login_idx').on('login_aliases').columns(['login_id', 'address']).execute();

  const tenants = await sql<{ id: string; domain: string | null; created_at: string }>`
    SELECT id, domain, created_at FROM tenants WHERE domain IS NOT NULL ORDER BY created_at, id`.execute(db);
  const claimed = new Set<string>();
  for (const tenant of tenants.rows) {
    const domain = tenant.domain ? canonicalDomain(tenant.domain) : null;
    if (!domain || claimed.has(domain)) continue;
    claimed.add(domain);
    await sql`INSERT INTO tenant_domains (domain, tenant_id, created_at) VALUES (${domain}, ${tenant.id}, ${tenant.created_at})`.execute(db);
  }
}
