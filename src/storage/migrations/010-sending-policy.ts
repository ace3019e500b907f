// Sending policy (issue 25): which senders a credential may use and how much it may send.
// credentials.allowed_senders: JSON array of addresses and `@domain` entries, NULL = the default
// (see domain/sending-policy.ts); credentials.sending_limits: JSON object of per-credential
// overrides of the tenant's quotas, NULL = the tenant's. sending_counters: fixed windows per
// subject (credential, login or tenant), shared by every node when no Redis is configured.
import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('credentials').addColumn('allowed_senders', 'text').execute();
  await db.schema.alterTable('credentials').addColumn('sending_limits', 'text').execute();
  await db.schema
    .createTable('sending_counters')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('window', 'text', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('messages', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('recipients', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deferred', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sending_counters_pk', ['subject', 'window', 'window_start'])
    .execute();
  await db.schema.createIndex('sending_counters_start_idx').on('sending_counters').column('window_start').execute();
}
