// Verification counts per node and minute, so that the console's stats cover every node on the
// database instead of the one that answered the request. Each node upserts its own rows (its
// running totals for the minute); readers sum over nodes. Rows older than a day are pruned.
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('verification_minutes')
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull()) // ISO start of the minute
    .addColumn('allowed', 'integer', (c) => c.notNull())
    .addColumn('denied', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('verification_minutes_pk', ['node_id', 'minute'])
    .execute();
  await db.schema.createIndex('verification_minutes_minute_idx').on('verification_minutes').column('minute').execute();
  await db.schema
    .createTable('verification_denied_clients')
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('denied', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('verification_denied_clients_pk', ['node_id', 'minute', 'ip'])
    .execute();
  await db.schema.createIndex('verification_denied_clients_minute_idx').on('verification_denied_clients').column('minute').execute();
}
