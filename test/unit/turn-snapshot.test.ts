// The hot-path reader's turn snapshot (src/storage/turn-snapshot.ts): the lookups of one turn of
// the event loop share one read transaction, which ends with the turn; a write of this process
// is seen by the very next lookup, a write of another connection from the next turn on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/storage/connect.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("the hot-path reader's turn snapshot", () => {
  let dir: string;
  let file: string;
  let handle: DatabaseHandle;
  let other: SQLite.Database;

  const reader = () => {
    const connection = handle.sqliteReader?.();
    if (!connection) throw new Error('a file database has a reader');
    return connection;
  };
  const read = (v: string) => reader().prepare('SELECT v FROM t WHERE v = ?').pluck().get(v) ?? null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relaykey-turn-snapshot-'));
    file = join(dir, 'test.db');
    handle = openDatabase(`sqlite:${file}`);
    (handle.sqlite as SQLite.Database).exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
    // Another process's connection (a CLI command, say).
    other = new SQLite(file);
  });

  afterEach(async () => {
    other.close();
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares one read transaction among the lookups of a turn and ends it with the turn', async () => {
    expect(read('a')).toBeNull();
    const connection = reader();
    expect(connection.inTransaction).toBe(true);
    // Committed by another connection between two lookups of the same turn: not in this turn's snapshot...
    other.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    expect(read('a')).toBeNull();
    await nextTurn();
    // ...and no snapshot outlives its turn: the next turn sees it.
    expect(connection.inTransaction).toBe(false);
    expect(read('a')).toBe('a');
    await nextTurn();
    expect(connection.inTransaction).toBe(false);
  });

  it("sees this process's own writes at the next lookup, in the same turn", async () => {
    let turnEnded = false;
    setImmediate(() => {
      turnEnded = true;
    });
    expect(read('b')).toBeNull();
    // A statement outside a transaction...
    await sql`INSERT INTO t (v) VALUES ('b')`.execute(handle.db);
    expect(read('b')).toBe('b');
    // ...a transaction...
    await handle.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO t (v) VALUES ('c')`.execute(trx);
      // not yet committed: the reader sees committed rows only
      expect(read('c')).toBeNull();
    });
    expect(read('c')).toBe('c');
    // ...and one that rolls back leaves nothing to see.
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO t (v) VALUES ('d')`.execute(trx);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(read('d')).toBeNull();
    // All of it happened within one turn.
    expect(turnEnded).toBe(false);
  });

  it('lets a checkpoint by another connection copy the whole WAL once the turn is over', async () => {
    other.pragma('journal_mode = WAL');
    const insert = other.prepare('INSERT INTO t (v) VALUES (?)');
    other.transaction(() => {
      for (let i = 0; i < 500; i += 1) insert.run(`row ${i}`);
    })();
    expect(read('row 1')).toBe('row 1');
    other.transaction(() => {
      for (let i = 500; i < 1000; i += 1) insert.run(`row ${i}`);
    })();
    // The reader's snapshot predates the second batch: the checkpoint cannot pass it yet.
    const [during] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    expect(during?.checkpointed).toBeLessThan(during?.log as number);
    await nextTurn();
    const [after] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    expect(after?.checkpointed).toBe(after?.log);
  });
});
