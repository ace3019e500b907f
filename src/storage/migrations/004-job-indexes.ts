// Indexes for the background jobs, so that they need not scan every credential. Each one
// changes only when a credential is created, revoked or given an expiry (or a job run is
// recorded): none covers last_used_at or a session's last_seen_at, which every login writes.
import { type Kysely, sql } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  // credential-expiry walks the active keys whose expiry has passed, in (expires_at, id) order.
  // The queries that mean to use it compare status with the literal 'active': SQLite uses a
  // partial index only when the query's WHERE implies the index's, which a bound parameter does
  // only if SQLite re-plans the statement for its value (older versions never do). The second
  // column is id, not num_id: SQLite seeks an index by a row value such as (expires_at, id) >
  // (?, ?) only when no column of it is the rowid.
  await db.schema
    .createIndex('credentials_expiry_idx')
    .on('credentials')
    .columns(['expires_at', 'id'])
    .where(sql.ref('status'), '=', 'active')
    .where(sql.ref('expires_at'), 'is not', null)
    .execute();
  // session-pruning asks, for each session, whether its key was revoked: SQLite looks the key up
  // in this small index (INDEXED BY), PostgreSQL reads it for a semi-join.
  await db.schema.createIndex('credentials_revoked_idx').on('credentials').column('id').where(sql.ref('status'), '=', 'revoked').execute();
  // session-pruning deletes job runs older than 30 days; job_runs_job_idx leads with the job name.
  await db.schema.createIndex('job_runs_started_idx').on('job_runs').column('started_at').execute();
}
