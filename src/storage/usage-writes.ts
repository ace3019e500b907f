// Where the batched usage bookkeeping (last-used times, sessions) is written. A SQLite server
// hands it to its background worker's connection, off the event loop (src/storage/
// sqlite-background.ts); otherwise (PostgreSQL, tests without the worker, a worker that has
// died) it runs in transactions on the store's own connection.
import type { DatabaseHandle } from './connect.js';
import { lastUsedWrite } from './repositories/credentials.js';
import { type SessionRow, sessionUpsertWrite } from './repositories/sessions.js';
import type { Transaction } from './repository-set.js';

export interface UsageWrites {
  /** How many rows to hand over per call: each call is one transaction. */
  readonly chunkRows: number;
  /** Moves last-used times on (never back); resolves with the statements run. */
  lastUsed(lastUsed: Map<string, string>): Promise<number>;
  /** Inserts new sessions and moves known ones on; resolves with the statements run. */
  sessions(rows: readonly SessionRow[]): Promise<number>;
}

/**
 * Rows per transaction. On the event loop, SQLite runs each transaction synchronously (and
 * with auto-checkpoint its COMMIT may checkpoint the WAL): short ones keep cold verify's p99 at
 * ~15 ms instead of 30-55 ms (1,000 rows) or 400+ ms (one per flush). PostgreSQL does its I/O
 * off the event loop, and so does the background worker: fewer, larger commits are better
 * there (every commit also empties the verify reader's page cache).
 */
const CHUNK_ROWS = { sqlite: 250, postgres: 5_000, background: 1_000 } as const;
/** Sessions per multi-row statement on PostgreSQL. */
const SESSION_STATEMENT_ROWS = 200;

export function createUsageWrites(handle: DatabaseHandle, transaction: Transaction): UsageWrites {
  const background = () => handle.sqliteBackground?.() ?? null;
  return {
    get chunkRows() {
      return background() ? CHUNK_ROWS.background : CHUNK_ROWS[handle.dialect];
    },

    async lastUsed(lastUsed) {
      const worker = background();
      if (worker) return (await worker.write([lastUsedWrite(lastUsed)])).statements;
      await transaction((repositories) => repositories.credentials.recordLastUsed(lastUsed));
      return lastUsed.size;
    },

    async sessions(rows) {
      const worker = background();
      if (worker) return (await worker.write([sessionUpsertWrite(rows)])).statements;
      return transaction(async (repositories) => {
        const repository = repositories.sessions;
        let statements = 0;
        for (let start = 0; start < rows.length; start += SESSION_STATEMENT_ROWS) {
          statements += await repository.upsertMany(rows.slice(start, start + SESSION_STATEMENT_ROWS));
        }
        return statements;
      });
    },
  };
}
