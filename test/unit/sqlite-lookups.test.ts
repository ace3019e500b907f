// The lookup worker (src/storage/sqlite-lookups.ts): the verify lookups of one turn of the event
// loop go to a worker thread as one batch; each sees every commit made before it was asked for;
// a failing statement or worker says why. (The repository's use of it, and its fallback, are in
// test/core/verify-lookups.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/storage/connect.js';
import { startSqliteLookups } from '../../src/storage/sqlite-lookups.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SELECT = 'SELECT v, n FROM t WHERE v = ?';

describe('the SQLite lookup worker', () => {
  let dir: string;
  let file: string;
  let handle: DatabaseHandle;
  let writer: SQLite.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relaykey-lookups-'));
    file = join(dir, 'test.db');
    handle = openDatabase(`sqlite:${file}`);
    writer = handle.sqlite as SQLite.Database;
    writer.exec('CREATE TABLE t (v TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const insert = writer.prepare('INSERT INTO t (v, n) VALUES (?, ?)');
    for (let n = 0; n < 100; n += 1) insert.run(`k${n}`, n);
  });

  afterEach(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const started = () => {
    const lookups = handle.startSqliteLookups?.(() => {}) ?? null;
    if (!lookups) throw new Error('a file database starts a lookup worker');
    return lookups;
  };

  it('sends the lookups of one turn as one batch and answers each with its own row, in order', async () => {
    const lookups = started();
    const keys = ['k5', 'missing', 'k99', 'k0', 'k5'];
    const rows = await Promise.all(keys.map((key) => lookups.get(SELECT, key)));
    expect(rows).toEqual([{ v: 'k5', n: 5 }, undefined, { v: 'k99', n: 99 }, { v: 'k0', n: 0 }, { v: 'k5', n: 5 }]);
    expect(lookups.batches).toBe(1);
    // Two turns, two batches.
    await lookups.get(SELECT, 'k1');
    await lookups.get(SELECT, 'k2');
    expect(lookups.batches).toBe(3);
  });

  it('sees what this process committed right before, in the same turn, and other processes’ commits', async () => {
    const lookups = started();
    expect(await lookups.get(SELECT, 'new')).toBeUndefined();
    writer.prepare('INSERT INTO t (v, n) VALUES (?, ?)').run('new', 1);
    expect(await lookups.get(SELECT, 'new')).toEqual({ v: 'new', n: 1 });
    // A revocation-like change followed at once by a lookup of the same row.
    writer.prepare('UPDATE t SET n = 2 WHERE v = ?').run('new');
    expect(await lookups.get(SELECT, 'new')).toEqual({ v: 'new', n: 2 });
    // Asked for, then a commit in the same turn before the batch goes out: the batch sees it.
    const asked = lookups.get(SELECT, 'new');
    writer.prepare('UPDATE t SET n = 3 WHERE v = ?').run('new');
    expect(await asked).toEqual({ v: 'new', n: 3 });
    const other = new SQLite(file);
    try {
      other.prepare('DELETE FROM t WHERE v = ?').run('new');
    } finally {
      other.close();
    }
    expect(await lookups.get(SELECT, 'new')).toBeUndefined();
  });

  it('rejects a statement that fails or writes, with the reason, and goes on answering', async () => {
    const lookups = started();
    await expect(lookups.get('SELECT absent FROM t WHERE v = ?', 'k1')).rejects.toThrow(/no such column: absent/);
    await expect(lookups.get('DELETE FROM t WHERE v = ?', 'k1')).rejects.toThrow(/read-only/);
    // The failed batch was the other statement's alone: this one, in the same turn, is answered.
    const [failed, answered] = await Promise.allSettled([lookups.get('SELECT bad FROM t WHERE v = ?', 'k1'), lookups.get(SELECT, 'k1')]);
    expect(failed.status).toBe('rejected');
    expect(answered).toEqual({ status: 'fulfilled', value: { v: 'k1', n: 1 } });
    expect(writer.prepare('SELECT count(*) FROM t').pluck().get()).toBe(100);
  });

  it('answers what was asked before it stopped, then refuses', async () => {
    const lookups = started();
    const asked = lookups.get(SELECT, 'k7');
    const stopping = lookups.stop();
    expect(await asked).toEqual({ v: 'k7', n: 7 });
    await stopping;
    expect(lookups.alive).toBe(false);
    expect(handle.sqliteLookups?.()).toBeNull();
    await expect(lookups.get(SELECT, 'k7')).rejects.toThrow(/stopped/);
  });

  it('reports a database it cannot open, and fails the lookups waiting on it', async () => {
    const errors: string[] = [];
    const lookups = startSqliteLookups({ file: join(dir, 'missing', 'none.db'), cacheKib: 1024, onError: (message) => errors.push(message) });
    const waiting = lookups.get(SELECT, 'k1');
    await expect(waiting).rejects.toThrow(/lookup worker/);
    const deadline = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < deadline) await sleep(20);
    expect(errors[0]).toMatch(/unable to open|does not exist|no such file/i);
    expect(lookups.alive).toBe(false);
    await lookups.stop();
    // Said once, not again as "stopped" when the failed worker exits.
    expect(errors).toHaveLength(1);
  });
});
