// The SQLite background worker: checkpoints and write batches off the event loop, all or nothing
// per batch; it reports when it cannot work, and the server's writes then stay on its own
// connection. (The server's path through it is covered in test/protocol/usage.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../../src/storage/connect.js';
import { startSqliteBackground } from '../../src/storage/sqlite-background.js';
import { createStore } from '../../src/storage/store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the SQLite background worker', () => {
  let dir: string;
  let handle: DatabaseHandle;
  let sqlite: NonNullable<DatabaseHandle['sqlite']>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'relaykey-background-'));
    handle = openDatabase(`sqlite:${join(dir, 'test.db')}`);
    sqlite = handle.sqlite as NonNullable<DatabaseHandle['sqlite']>;
    sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  });

  afterEach(async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a database it cannot open instead of failing silently, refuses writes, and stops cleanly', async () => {
    const errors: string[] = [];
    const background = startSqliteBackground({
      file: join(tmpdir(), 'relaykey-missing', 'none.db'),
      checkpointIntervalMs: 20,
      onError: (message) => errors.push(message),
    });
    const deadline = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < deadline) await sleep(20);
    expect(errors[0]).toMatch(/unable to open|does not exist|no such file/i);
    await background.stop();
    expect(background.writable).toBe(false);
    await expect(background.write([{ sql: 'INSERT INTO t (v) VALUES (?)', rows: [['a']] }])).rejects.toThrow(/stopped/);
  });

  it('takes the WAL off the writer: auto-checkpoint off while it runs, frames copied by the worker', async () => {
    const background = handle.startSqliteBackground?.(() => {});
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const insert = sqlite.prepare('INSERT INTO t (v) VALUES (?)');
    sqlite.transaction(() => {
      for (let i = 0; i < 5_000; i += 1) insert.run(`${i}`.padEnd(200, 'x'));
    })();
    const deadline = Date.now() + 10_000;
    while ((background?.framesCheckpointed ?? 0) === 0 && Date.now() < deadline) await sleep(20);
    expect(background?.framesCheckpointed).toBeGreaterThan(0);
  });

  it('writes a batch in one transaction: all of it, or on any failure none of it, with the reason', async () => {
    const background = handle.startSqliteBackground?.(() => {}) ?? null;
    expect(background).not.toBeNull();
    const insert = 'INSERT INTO t (v) VALUES (?)';
    const written = await background?.write([
      { sql: insert, rows: [['a'], ['b']] },
      {
        sql: 'UPDATE t SET v = ? WHERE v = ?',
        rows: [
          ['c', 'b'],
          ['d', 'nothing'],
        ],
      },
    ]);
    expect(written).toEqual({ statements: 4, changes: 3 });
    expect(background?.rowsChanged).toBe(3);
    // The second row breaks the UNIQUE constraint: the first must not stay behind.
    await expect(background?.write([{ sql: insert, rows: [['e'], ['a']] }])).rejects.toThrow(/UNIQUE constraint failed/);
    expect(sqlite.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['a', 'c']);
    expect(background?.rowsChanged).toBe(3);
    // Its own connection: the server connection changed nothing.
    expect(sqlite.prepare('SELECT total_changes()').pluck().get()).toBe(0);
  });

  it('a server transaction that reads, waits and then writes is not broken by a background commit in between', async () => {
    const background = handle.startSqliteBackground?.(() => {}) ?? null;
    let backgroundWrite: Promise<unknown> | undefined;
    await handle.db.transaction().execute(async (trx) => {
      await sql`SELECT count(*) FROM t`.execute(trx);
      backgroundWrite = background?.write([{ sql: 'INSERT INTO t (v) VALUES (?)', rows: [['from the worker']] }]);
      // Time for the worker to commit, were it allowed to while this transaction is open
      // (with a deferred BEGIN the INSERT below would then fail with SQLITE_BUSY).
      await sleep(200);
      await sql`INSERT INTO t (v) VALUES ('from the server')`.execute(trx);
    });
    await backgroundWrite;
    expect(sqlite.prepare('SELECT v FROM t ORDER BY id').pluck().all()).toEqual(['from the server', 'from the worker']);
  });

  it('reads committed rows on its own connection, and refuses a statement that writes', async () => {
    await migrateToLatest(handle);
    const store = createStore(handle);
    const background = handle.startSqliteBackground?.(() => {}) ?? null;
    const jobRun = (id: string) => ({ id, job: 'test', node_id: 'n', started_at: '2026-11-29T00:00:00.000Z', duration_ms: 1, items: 0, outcome: 'ok' });
    await handle.db.insertInto('job_runs').values(jobRun('committed')).execute();
    const query = handle.db.selectFrom('job_runs').select(['id']).where('job', '=', 'test').orderBy('id');
    await handle.db.transaction().execute(async (trx) => {
      await trx.insertInto('job_runs').values(jobRun('uncommitted')).execute();
      // The server connection is held by this transaction: only another connection can answer,
      // and it sees committed rows only.
      expect(await store.readInBackground(query)).toEqual([{ id: 'committed' }]);
    });
    expect(await store.readInBackground(query)).toEqual([{ id: 'committed' }, { id: 'uncommitted' }]);
    await expect(background?.read("DELETE FROM job_runs WHERE job = 'test'", [])).rejects.toThrow(/read-only/);
    expect(await query.execute()).toHaveLength(2);
    await background?.stop();
    // Without the worker the same read runs on the server connection.
    expect(await store.readInBackground(query)).toHaveLength(2);
  });

  it('usage writes go to the worker while it runs, and back to the server connection once it has stopped', async () => {
    await migrateToLatest(handle);
    const store = createStore(handle);
    const background = handle.startSqliteBackground?.(() => {}) ?? null;
    const serverChanges = () => Number(sqlite.prepare('SELECT total_changes()').pluck().get());
    expect(store.usageWrites.chunkRows).toBe(1_000);
    const before = serverChanges();
    // No such credential: the UPDATE runs and changes nothing, wherever it runs.
    expect(await store.usageWrites.lastUsed(new Map([['nope', new Date().toISOString()]]))).toBe(1);
    expect(handle.sqliteBackground?.()).toBe(background);
    expect(serverChanges()).toBe(before);

    await background?.stop();
    expect(handle.sqliteBackground?.()).toBeNull();
    expect(store.usageWrites.chunkRows).toBe(250);
    const session = {
      id: '0190f6c1-0000-7000-8000-000000000001',
      credential_id: 'c1',
      tenant_id: 't1',
      ip_address: '10.0.0.1',
      raw_user_agent: 'agent',
      user_agent_family: '',
      user_agent_version: '',
      user_agent_major_version: '',
      os_family: '',
      os_version: '',
      device_family: '',
      device_brand: '',
      device_type: '',
      country: '',
      country_iso_code: '',
      protocol: 'imap',
      is_active: 1,
      created_at: new Date().toISOString(),
      modified_at: new Date().toISOString(),
      last_seen_at: new Date().toISOString(),
    };
    expect(await store.usageWrites.sessions([session])).toBe(1);
    expect(serverChanges()).toBe(before + 1);
  });
});
