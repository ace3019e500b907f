// Signed checkpoints of every audit chain head (issue 22, finding 8). One row per checkpoint
// slot: the unique slot makes exactly one node of a cluster write (and announce) each one. The
// copies that matter are the ones that left the database (log lines, `audit.checkpoint`
// webhooks); the rows here say which heads moved since the last one, and let `audit verify`
// catch a careless truncation that left them in place.
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slot', 'text', (c) => c.notNull().unique()) // ISO start of the interval it covers
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('key_version', 'integer', (c) => c.notNull())
    .addColumn('heads', 'text', (c) => c.notNull()) // JSON [{chain, count, last_hash}]
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_checkpoints_created_idx').on('audit_checkpoints').column('created_at').execute();
}
