// Verification outcomes per node, minute and subject (a tenant's credential, or the domain of a
// user name whose key was unknown), and refusals per client address and reason: the per-tenant
// and per-credential analytics of the console. Pruned with verification_minutes (a day).
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('verification_outcomes')
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull()) // '' when the key was unknown
    .addColumn('credential_id', 'text', (c) => c.notNull()) // '' when the key was unknown
    .addColumn('domain', 'text', (c) => c.notNull()) // the user name's domain when the key was unknown, else ''
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('verification_outcomes_pk', ['node_id', 'minute', 'outcome', 'tenant_id', 'credential_id', 'domain'])
    .execute();
  await db.schema.createIndex('verification_outcomes_tenant_idx').on('verification_outcomes').columns(['tenant_id', 'minute']).execute();
  await db.schema.createIndex('verification_outcomes_minute_idx').on('verification_outcomes').column('minute').execute();
  await db.schema
    .createTable('verification_refusals')
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('verification_refusals_pk', ['node_id', 'minute', 'outcome', 'tenant_id', 'credential_id', 'domain', 'ip'])
    .execute();
  await db.schema.createIndex('verification_refusals_tenant_idx').on('verification_refusals').columns(['tenant_id', 'minute']).execute();
  await db.schema.createIndex('verification_refusals_minute_idx').on('verification_refusals').column('minute').execute();
}
