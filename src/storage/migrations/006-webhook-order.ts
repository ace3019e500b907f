// Webhook order: each delivery knows its subject (the credential, or whatever the event is
// about) and the tenant-wide sequence number of its event, so that deliveries to one endpoint
// about one subject go out one at a time, in order (repositories/webhooks.ts claimDue). Rows from
// before this migration have neither and are sent as before.
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('webhook_deliveries').addColumn('subject', 'text').execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('sequence', 'bigint').execute();
  await db.schema.createIndex('webhook_deliveries_subject_idx').on('webhook_deliveries').columns(['endpoint_id', 'subject', 'sequence']).execute();
}
