// The reads and writes of the background jobs that walk whole tables (expiry, inactivity,
// session pruning): the SQL and its dialect differences live here, the rules in src/jobs/.
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { Role } from '../../domain/scopes.js';
import type { Surface, TenantSettings } from '../../domain/types.js';
import { yieldToEventLoop } from '../../event-loop.js';
import type { DatabaseHandle } from '../connect.js';
import { keyRanges } from '../key-ranges.js';
import type { Database } from '../schema.js';
import type { ReadQuery } from '../repository-set.js';
import { parseJson } from './json.js';

export interface ExpiryCursor {
  expiresAt: string;
  id: string;
}

/**
 * Active keys expired by `now`, after `cursor` in (expires_at, id) order, with the subject of
 * their `expired` notice if any: read from credentials_expiry_idx and lifecycle_notices only.
 */
export function expiredKeysQuery(db: Kysely<Database>, now: string, cursor: ExpiryCursor | null, limit: number) {
  let query = db
    .selectFrom('credentials as c')
    .leftJoin('lifecycle_notices as n', (join) => join.onRef('n.credential_id', '=', 'c.id').on('n.notice', '=', 'expired'))
    .select(['c.id', 'c.expires_at', 'n.subject'])
    // A literal, not a parameter: SQLite can then always prove that the partial index applies.
    .where('c.status', '=', sql.lit('active'))
    .where('c.expires_at', 'is not', null)
    .where('c.expires_at', '<=', now);
  if (cursor) query = query.where((eb) => eb(eb.refTuple('c.expires_at', 'c.id'), '>', eb.tuple(cursor.expiresAt, cursor.id)));
  return query.orderBy('c.expires_at', 'asc').orderBy('c.id', 'asc').limit(limit);
}

/**
 * num_ids read per query by the inactivity scan: SQLite filters 2,000 rows in about half a
 * millisecond on the event loop (a whole 1M-key table in ~270 ms); PostgreSQL works off it, so
 * fewer round trips there.
 */
export const SCAN_RANGE = { sqlite: 2_000, postgres: 50_000 } as const;

export interface SessionPruningOptions {
  /** SQLite: session rowids read per query (~1 ms for 2,000); tests use a few to cross ranges. */
  rangeWidth?: number;
  /**
   * SQLite: sessions deleted or deactivated per statement. A deleted session changes a page of
   * each of its two indexes (random places), so a hundred already take about a millisecond.
   */
  writeBatch?: number;
}

const SQLITE_SESSION_DEFAULTS = { rangeWidth: 2_000, writeBatch: 100 } as const;

type Sessions = ExpressionBuilder<Database, 'credential_sessions'>;

/** An active credential the inactivity rule may reach, with its last activity (last use, else creation). */
export interface InactivityCandidate {
  id: string;
  tenant_id: string;
  surface: Surface;
  role: Role | null;
  activity: string;
}

export class JobScanRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DatabaseHandle['dialect'],
    private readonly readInBackground: <Row>(query: ReadQuery<Row>) => Promise<Row[]>,
  ) {}

  /** Active keys expired by `now`, after `cursor`, with the subject of their `expired` notice (see expiredKeysQuery). */
  expiredKeys(now: string, cursor: ExpiryCursor | null, limit: number) {
    return expiredKeysQuery(this.db, now, cursor, limit).execute();
  }

  /** Tenant and name of these credentials (the keys an expiry run announces). */
  credentialSummaries(ids: string[]) {
    return this.db.selectFrom('credentials').select(['id', 'tenant_id', 'name']).where('id', 'in', ids).execute();
  }

  /** Every tenant's settings, by tenant id. */
  async tenantSettings(): Promise<Map<string, TenantSettings>> {
    const settings = new Map<string, TenantSettings>();
    for (const row of await this.db.selectFrom('tenants').select(['id', 'settings']).execute()) {
      settings.set(row.id, parseJson<TenantSettings>(row.settings, {}));
    }
    return settings;
  }

  /** The credentials table in num_id ranges (default width SCAN_RANGE for the dialect). */
  credentialRanges(width: number = SCAN_RANGE[this.dialect]) {
    return keyRanges(this.db, { table: 'credentials', key: 'num_id' }, width);
  }

  /**
   * Active credentials of these surfaces in (after, upTo] whose last activity is at or before
   * `horizon`; read off the event loop on a SQLite server (a whole 1M-key table is ~300-450 ms).
   */
  inactivityCandidates(range: { after: number; upTo: number }, horizon: string, surfaces: Surface[]): Promise<InactivityCandidate[]> {
    const activity = sql<string>`coalesce(last_used_at, created_at)`;
    return this.readInBackground(
      this.db
        .selectFrom('credentials')
        .select(['id', 'tenant_id', 'surface', 'role'])
        .select(activity.as('activity'))
        .where('num_id', '>', range.after)
        .where('num_id', '<=', range.upTo)
        .where('status', '=', 'active')
        .where('surface', 'in', surfaces)
        .where(activity, '<=', horizon)
        .orderBy('num_id'),
    );
  }

  /**
   * Deletes sessions unseen since `deleteBefore` and marks inactive those unseen since
   * `inactiveBefore` or of revoked keys; answers how many sessions changed.
   */
  async pruneSessions(at: { nowIso: string; deleteBefore: string; inactiveBefore: string }, options: SessionPruningOptions = {}): Promise<number> {
    const db = this.db;
    const { nowIso, deleteBefore, inactiveBefore } = at;
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
    if (this.dialect === 'postgres') {
      // PostgreSQL runs the statements off the event loop: one pass each, deletes first so a
      // session due for both is deleted and counted once.
      const deleted = await db.deleteFrom('credential_sessions').where(unseen).executeTakeFirst();
      const deactivated = await db.updateTable('credential_sessions').set({ is_active: 0, modified_at: nowIso }).where(toDeactivate).executeTakeFirst();
      pruned = Number(deleted.numDeletedRows) + Number(deactivated.numUpdatedRows);
    } else {
      // last_seen_at moves on every login, so it is not indexed, and one statement would hold the
      // event loop while SQLite reads every session. Read short rowid ranges instead, then write
      // what is due in small batches; each write checks its condition again, as a login may have
      // moved the session on in between.
      const rowid = sql<number>`rowid`;
      const width = options.rangeWidth ?? SQLITE_SESSION_DEFAULTS.rangeWidth;
      const batch = options.writeBatch ?? SQLITE_SESSION_DEFAULTS.writeBatch;
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
            .set({ is_active: 0, modified_at: nowIso })
            .where((eb) => eb.and([eb(rowid, 'in', inactive.slice(i, i + batch)), toDeactivate(eb)]))
            .executeTakeFirst();
          pruned += Number(result.numUpdatedRows);
        }
      }
    }
    return pruned;
  }
}
