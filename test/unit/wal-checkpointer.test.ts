// The SQLite checkpoint worker: it reports when it cannot work, so the writer takes checkpoints
// back (the server's path through it is covered in test/protocol/usage.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/connect.js';
import { startWalCheckpointer } from '../../src/storage/wal-checkpointer.js';

describe('the WAL checkpoint worker', () => {
  it('reports a database it cannot open instead of failing silently, and stops cleanly', async () => {
    const errors: string[] = [];
    const checkpointer = startWalCheckpointer({
      file: join(tmpdir(), 'relaykey-missing', 'none.db'),
      intervalMs: 20,
      onError: (message) => errors.push(message),
    });
    const deadline = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors[0]).toMatch(/unable to open|does not exist|no such file/i);
    await checkpointer.stop();
  });

  it('takes the WAL off the writer: auto-checkpoint off while it runs, frames copied by the worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaykey-wal-'));
    const handle = openDatabase(`sqlite:${join(dir, 'test.db')}`);
    try {
      const sqlite = handle.sqlite as NonNullable<typeof handle.sqlite>;
      sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
      const checkpointer = handle.checkpointInBackground?.(() => {});
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const insert = sqlite.prepare('INSERT INTO t (v) VALUES (?)');
      sqlite.transaction(() => {
        for (let i = 0; i < 5_000; i += 1) insert.run('x'.repeat(200));
      })();
      const deadline = Date.now() + 10_000;
      while ((checkpointer?.framesCheckpointed ?? 0) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(checkpointer?.framesCheckpointed).toBeGreaterThan(0);
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
