// The hot-path reader's lookups share one read transaction per turn of the event loop.
//
// On its own, every SELECT on the reader is a read transaction of its own: it takes and drops a
// shared lock on a WAL read mark (two fcntl calls on the -shm file) and checks whether the WAL
// has changed since the last one. Under a stream of new keys, one turn works out a few dozen
// lookups; inside one transaction they pay that once (a 1M-key file, tight loop: ~14 µs per
// lookup alone, ~10.5 µs ten to a transaction).
//
// A lookup still sees committed rows only, with one bound on how old they may be:
// - a write of this process (the server's own writer connection) is seen by the next lookup,
//   even in the same turn: every time Kysely hands the writer back (after a COMMIT, after any
//   statement outside a transaction) the writer's generation moves on, and a lookup that finds
//   it moved starts a new snapshot;
// - a write of another process (a CLI command, another node) is seen from the next turn on,
//   one turn later at most than before. Such writes reach this process's verify cache only
//   through a change message or the cache's TTL anyway, both later than that.
// The transaction ends in setImmediate, right after the poll phase whose requests needed it (a
// snapshot begun in the check phase itself ends one turn later), so no snapshot outlives its
// turn by more than that and WAL checkpoints are held up no longer than before.
import type SQLite from 'better-sqlite3';

export interface TurnSnapshot {
  /** The reader, inside this turn's read transaction (begun on the first call of the turn). */
  enter(): SQLite.Database;
}

export function turnSnapshot(reader: SQLite.Database, writerGeneration: () => number): TurnSnapshot {
  const begin = reader.prepare('BEGIN');
  const commit = reader.prepare('COMMIT');
  const rollback = reader.prepare('ROLLBACK');
  let generation = -1;
  let endScheduled = false;
  // A read transaction left open would serve an ever older snapshot and hold checkpoints back:
  // if COMMIT fails, ROLLBACK ends it; if that fails too, the connection is broken and the next
  // lookup's BEGIN reports it.
  const finish = () => {
    if (!reader.open || !reader.inTransaction) return;
    try {
      commit.run();
    } catch {
      try {
        rollback.run();
      } catch {
        // see above
      }
    }
  };
  const end = () => {
    endScheduled = false;
    finish();
  };
  return {
    enter() {
      const current = writerGeneration();
      if (reader.inTransaction) {
        if (current === generation) return reader;
        finish();
      }
      begin.run();
      generation = current;
      if (!endScheduled) {
        endScheduled = true;
        setImmediate(end);
      }
      return reader;
    },
  };
}
