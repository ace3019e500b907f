// Audit chains keyed with HMAC (issue 22): the head carries its own MAC, and how many events of
// the chain were written before the switch-over (plain SHA-256, still verified as such); every
// later event must carry a keyed hash. The MACs of existing heads are written at the next start
// (the key is not available to a migration): AuditService.sealHeads.
import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('audit_chain_heads').addColumn('head_mac', 'text').execute();
  await db.schema
    .alterTable('audit_chain_heads')
    .addColumn('legacy_events', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`UPDATE audit_chain_heads SET legacy_events = event_count`.execute(db);
}
