// Reads from PostgreSQL hot standbys (RELAYKEY_DATABASE_REPLICA_URLS) within a staleness bound
// (RELAYKEY_DATABASE_REPLICA_MAX_LAG_MS). Streaming replication is PostgreSQL's own; this only
// decides, per read, whether a standby is fresh enough to answer it.
//
// How fresh a standby is: every tick the primary's WAL insert position is sampled with the time
// it was read. A standby that has replayed up to a sampled position holds every commit made
// before that sample's time, so it is "fresh as of" the newest sample its replay position has
// passed. It serves reads only while that time is within the bound; otherwise (lagging, not
// reachable, or the primary cannot be sampled) reads go to the primary. A revocation committed
// more than the bound ago is therefore never read stale from a standby.
import type pg from 'pg';
import { clientConfig, describeHost, type PostgresTimeouts } from './postgres-pool.js';

/** How often the primary and each standby are sampled (ms). */
export const REPLICA_SAMPLE_MS = 100;

export interface ReplicaOptions {
  urls: string[];
  maxLagMs: number;
  poolSize: number;
  timeouts: PostgresTimeouts;
  schema?: string | undefined;
  /** Runs one statement on the primary (through the main pool). */
  primaryLsn(): Promise<string>;
  onConnectionLost(error: Error): void;
}

interface Replica {
  url: string;
  pool: pg.Pool;
  /** Epoch ms as of which this standby holds every commit, or 0 when unknown. */
  freshAsOf: number;
  /** Replay position last seen (for /readyz). */
  replayLsn: string | null;
  /** Reads it answered. */
  reads: number;
}

/** '16/B374D848' -> a number that orders positions (53 bits are plenty for the tests' and most clusters' WAL). */
export function lsnValue(lsn: string): bigint {
  const [high = '0', low = '0'] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export class ReplicaReads {
  readonly maxLagMs: number;
  readonly #replicas: Replica[];
  readonly #samples: { at: number; lsn: bigint }[] = [];
  readonly #primaryLsn: () => Promise<string>;
  #timer: NodeJS.Timeout | null = null;
  #next = 0;
  #sampling = false;
  /** Reads a standby answered / the primary answered instead. */
  servedByReplica = 0;
  servedByPrimary = 0;

  constructor(pgModule: typeof pg, options: ReplicaOptions) {
    this.maxLagMs = options.maxLagMs;
    this.#primaryLsn = options.primaryLsn;
    this.#replicas = options.urls.map((url) => {
      const pool = new pgModule.Pool({ ...clientConfig(url, options), max: options.poolSize });
      pool.on('error', (error) => options.onConnectionLost(error));
      pool.on('connect', (client) => client.on('error', (error) => options.onConnectionLost(error)));
      return { url, pool, freshAsOf: 0, replayLsn: null, reads: 0 };
    });
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#sampling) return;
      this.#sampling = true;
      this.sample().finally(() => {
        this.#sampling = false;
      });
    }, REPLICA_SAMPLE_MS);
    this.#timer.unref();
  }

  /** One round: the primary's position, then each standby's replay position. */
  async sample(): Promise<void> {
    try {
      const lsn = lsnValue(await this.#primaryLsn());
      this.#samples.push({ at: Date.now(), lsn });
      // Samples older than the bound can never make a standby eligible again.
      const oldest = Date.now() - this.maxLagMs - 2 * REPLICA_SAMPLE_MS;
      while (this.#samples.length > 1 && (this.#samples[0] as { at: number }).at < oldest) this.#samples.shift();
    } catch {
      // The primary cannot be sampled: no standby becomes fresher, and each falls out of the bound.
    }
    await Promise.all(
      this.#replicas.map(async (replica) => {
        try {
          const { rows } = await replica.pool.query<{ lsn: string | null; standby: boolean }>(
            'select coalesce(pg_last_wal_replay_lsn(), pg_current_wal_insert_lsn())::text as lsn, pg_is_in_recovery() as standby',
          );
          const row = rows[0];
          if (!row?.lsn) return;
          replica.replayLsn = row.lsn;
          const replayed = lsnValue(row.lsn);
          for (let i = this.#samples.length - 1; i >= 0; i--) {
            const sample = this.#samples[i] as { at: number; lsn: bigint };
            if (sample.lsn <= replayed) {
              replica.freshAsOf = Math.max(replica.freshAsOf, sample.at);
              break;
            }
          }
        } catch {
          // Unreachable: it ages out of the bound by itself.
        }
      }),
    );
  }

  /** A standby fresh within the bound now (round robin among them), or null: read the primary. */
  pick(): Replica | null {
    const now = Date.now();
    for (let i = 0; i < this.#replicas.length; i++) {
      const replica = this.#replicas[(this.#next + i) % this.#replicas.length] as Replica;
      if (now - replica.freshAsOf <= this.maxLagMs) {
        this.#next = (this.#next + i + 1) % this.#replicas.length;
        return replica;
      }
    }
    return null;
  }

  /** Runs a read on a fresh standby; null when none is fresh or it failed (the caller reads the primary). */
  async query<Row>(text: string, parameters: readonly unknown[]): Promise<Row[] | null> {
    const replica = this.pick();
    if (!replica) {
      this.servedByPrimary += 1;
      return null;
    }
    try {
      const { rows } = await replica.pool.query(text, parameters as unknown[]);
      this.servedByReplica += 1;
      replica.reads += 1;
      return rows as Row[];
    } catch {
      replica.freshAsOf = 0;
      this.servedByPrimary += 1;
      return null;
    }
  }

  /** Per standby: where it is, how far behind (ms, as far as known), whether it serves reads. */
  report(): Record<string, unknown>[] {
    const now = Date.now();
    return this.#replicas.map((replica) => ({
      host: describeHost(replica.url),
      lag_ms: replica.freshAsOf ? now - replica.freshAsOf : null,
      serving: replica.freshAsOf > 0 && now - replica.freshAsOf <= this.maxLagMs,
      reads: replica.reads,
    }));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#replicas.map((replica) => replica.pool.end()));
  }
}
