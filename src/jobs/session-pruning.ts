// session-pruning: sessions of revoked keys or unseen for a week turn inactive; sessions unseen
// for 30 days are deleted, and so are job-run records older than 30 days.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { DAY } from '../clock.js';
import { yieldToEventLoop } from '../event-loop.js';
import type { Runtime } from '../runtime.js';
import { JobRunRepository } from '../storage/repositories/job-runs.js';
import type { Database } from '../storage/schema.js';
import type { JobDefinition } from './job.js';
import { keyRanges } from './key-ranges.js';

export const SESSION_INACTIVE_AFTER_MS = 7 * DAY;
export const SESSION_DELETE_AFTER_MS = 30 * DAY;
export const JOB_RUNS_KEPT_MS = 30 * DAY;

export interface SessionPruningOptions {
  /** SQLite: session rowids read per query (~1 ms for 2,000); tests use a few to cross ranges. */
  rangeWidth?: number;
  /**
   * SQLite: sessions deleted or deactivated per statement. A deleted session changes a page of
   * each of its two indexes (random places), so a hundred already take about a millisecond.
   */
  writeBatch?: number;
}

const SQLITE_DEFAULTS = { rangeWidth: 2_000, writeBatch: 100 } as const;

type Sessions = ExpressionBuilder<Database, 'credential_sessions'>;

export async function pruneSessions(runtime: Runtime, options: SessionPruningOptions = {}): Promise<number> {
  const db = runtime.store.db;
  const now = runtime.services.context.clock.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const deleteBefore = iso(now - SESSION_DELETE_AFTER_MS);
  const inactiveBefore = iso(now - SESSION_INACTIVE_AFTER_MS);
  const unseen = (eb: Sessions) => eb('last_seen_at', '<', deleteBefore);
  const toDeactivate = (eb: Sessions): Expression<SqlBool> =>
    eb.and([
      eb('is_active', '=', 1),
      eb.or([
        eb('last_seen_at', '<', inactiveBefore),
        eb.exists(
          eb
            .selectFrom('credentials')
            .select(sql.lit(1).as('revoked'))
            .whereRef('credentials.id', '=', 'credential_sessions.credential_id')
            .where('credentials.status', '=', sql.lit('revoked')),
        ),
      ]),
    ]);

  let pruned = 0;
  if (runtime.store.dialect === 'postgres') {
    // PostgreSQL runs the statements off the event loop: one pass each, deletes first so a
    // session due for both is deleted and counted once.
    const deleted = await db.deleteFrom('credential_sessions').where(unseen).executeTakeFirst();
    const deactivated = await db
      .updateTable('credential_sessions')
      .set({ is_active: 0, modified_at: iso(now) })
      .where(toDeactivate)
      .executeTakeFirst();
    pruned = Number(deleted.numDeletedRows) + Number(deactivated.numUpdatedRows);
  } else {
    // last_seen_at moves on every login, so it is not indexed, and one statement would hold the
    // event loop while SQLite reads every session. Read short rowid ranges instead, then write
    // what is due in small batches; each write checks its condition again, as a login may have
    // moved the session on in between.
    const rowid = sql<number>`rowid`;
    const width = options.rangeWidth ?? SQLITE_DEFAULTS.rangeWidth;
    const batch = options.writeBatch ?? SQLITE_DEFAULTS.writeBatch;
    for await (const { after, upTo } of keyRanges(db, { table: 'credential_sessions', key: 'rowid' }, width)) {
      // INDEXED BY: SQLite would otherwise look each key up in the unique index on id and then
      // read its row for the status; the partial index of revoked ids answers alone, 3x faster.
      const { rows } = await sql<{ session: number; unseen: number }>`
        SELECT rowid AS session, last_seen_at < ${deleteBefore} AS unseen FROM credential_sessions
        WHERE rowid > ${after} AND rowid <= ${upTo} AND (last_seen_at < ${deleteBefore} OR (is_active = 1 AND (last_seen_at < ${inactiveBefore}
          OR EXISTS (SELECT 1 FROM credentials INDEXED BY credentials_revoked_idx
                     WHERE credentials.id = credential_sessions.credential_id AND credentials.status = 'revoked'))))
        ORDER BY rowid`.execute(db);
      const expired = rows.filter((r) => Number(r.unseen) === 1).map((r) => r.session);
      const inactive = rows.filter((r) => Number(r.unseen) !== 1).map((r) => r.session);
      for (let i = 0; i < expired.length; i += batch) {
        await yieldToEventLoop();
        const result = await db
          .deleteFrom('credential_sessions')
          .where((eb) => eb.and([eb(rowid, 'in', expired.slice(i, i + batch)), unseen(eb)]))
          .executeTakeFirst();
        pruned += Number(result.numDeletedRows);
      }
      for (let i = 0; i < inactive.length; i += batch) {
        await yieldToEventLoop();
        const result = await db
          .updateTable('credential_sessions')
          .set({ is_active: 0, modified_at: iso(now) })
          .where((eb) => eb.and([eb(rowid, 'in', inactive.slice(i, i + batch)), toDeactivate(eb)]))
          .executeTakeFirst();
        pruned += Number(result.numUpdatedRows);
      }
    }
  }
  await new JobRunRepository(db).pruneBefore(iso(now - JOB_RUNS_KEPT_MS));
  return pruned;
}

export const sessionPruningJob: JobDefinition = {
  name: 'session-pruning',
  intervalMs: 3_600_000,
  run: (runtime) => pruneSessions(runtime),
};
