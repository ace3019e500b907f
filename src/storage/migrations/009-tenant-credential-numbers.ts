// Seed 001 shows integer credential ids. They came from credentials.num_id, one platform-wide
// sequence, and so told every tenant roughly how many credentials all tenants have. Now each
// tenant numbers its own: credentials.tenant_num, handed out from tenants.credential_count.
// Existing credentials keep their order (by num_id) within their tenant.
import { type Kysely, sql } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('tenants')
    .addColumn('credential_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('credentials').addColumn('tenant_num', 'integer').execute();
  // UPDATE ... FROM a numbered copy: one pass on both dialects (a correlated subquery would
  // number the table once per row).
  await sql`UPDATE credentials SET tenant_num = numbered.n
    FROM (SELECT num_id, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY num_id) AS n FROM credentials) AS numbered
    WHERE numbered.num_id = credentials.num_id`.execute(db);
  await sql`UPDATE tenants SET credential_count = counted.n
    FROM (SELECT tenant_id, MAX(tenant_num) AS n FROM credentials GROUP BY tenant_id) AS counted
    WHERE counted.tenant_id = tenants.id`.execute(db);
  await db.schema.createIndex('credentials_tenant_num_idx').on('credentials').columns(['tenant_id', 'tenant_num']).unique().execute();
}
