// A full disk under a SQLite node: a small tmpfs this test mounts itself holds the database.
// Writes answer 503 DISK_FULL with Retry-After and one log line naming the cause, /readyz says
// so, verifications go on, writes work again when space returns, nothing acknowledged is lost
// and the integrity check is clean.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant } from '../helpers/api.js';
import type { ServerProcess } from '../helpers/process.js';
import { createCredential, nodeEnv, seed, sleep, startNode, verifyOnce } from './helpers.js';

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'relaykey-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    execFileSync('umount', [dir]);
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
}

/** Writes a file until the disk is full; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe.skipIf(!canMount())('a full disk under SQLite', () => {
  let mountDir: string;
  let node: ServerProcess;
  let tenant: SeededTenant;
  let env: NodeJS.ProcessEnv;
  const secrets: string[] = [];
  const acknowledged: string[] = [];

  beforeAll(async () => {
    mountDir = mkdtempSync(join(tmpdir(), 'relaykey-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountDir]);
    env = nodeEnv(`sqlite:${join(mountDir, 'relaykey.db')}`, { RELAYKEY_DATA_DIR: mountDir });
    node = await startNode(env);
    tenant = await seed(node, env);
    for (let i = 0; i < 4; i++) {
      const created = await createCredential(node.url, tenant, `before${i}`);
      expect(created.status).toBe(201);
      acknowledged.push(created.body.id);
      secrets.push(created.body.secret);
      expect((await verifyOnce(node.url, tenant, created.body.secret)).status).toBe(200);
    }
  }, 180_000);

  afterAll(async () => {
    node?.child.kill('SIGKILL');
    await node?.exited;
    if (mountDir) {
      try {
        execFileSync('umount', [mountDir]);
      } catch {
        // not mounted
      }
      rmSync(mountDir, { recursive: true, force: true });
    }
  });

  it('answers 503 DISK_FULL, logs the cause once, and writes again when space returns', async () => {
    const filler = fill(mountDir);
    // The WAL may still have room for a few writes: write until the disk says no.
    let refused: Awaited<ReturnType<typeof createCredential>> | null = null;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300 && !refused; i++) {
      const response = await createCredential(node.url, tenant, `fill${i}`);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 201) acknowledged.push(response.body.id);
      else refused = response;
    }
    console.log('writes on a full disk:', Object.fromEntries(statuses));
    expect(refused?.status).toBe(503);
    expect(refused?.body.error.code).toBe('DISK_FULL');
    expect(refused?.headers.get('retry-after')).toBe('5');
    for (let i = 0; i < 5; i++) {
      const again = await createCredential(node.url, tenant, `again${i}`);
      expect(again.status).toBe(503);
      expect(again.body.error.code).toBe('DISK_FULL');
    }
    const ready = await call(node, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.database.status).toBe('DISK_FULL');
    // Verifications go on.
    for (const secret of secrets) expect((await verifyOnce(node.url, tenant, secret)).status).toBe(200);
    const log = node.output.join('');
    const lines = log.split('\n').filter((l) => l.includes('database fault DISK_FULL'));
    if (lines.length !== 1)
      console.log(
        log
          .split('\n')
          .filter((l) => /database (fault|answers)/.test(l))
          .join('\n'),
      );
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain('SQLITE_FULL');
    expect(log).not.toContain('cannot rollback');
    expect(log).not.toContain('request failed');

    // Space returns.
    rmSync(filler);
    const freedAt = Date.now();
    let written = false;
    while (!written) {
      const response = await createCredential(node.url, tenant, 'after');
      if (response.status === 201) {
        acknowledged.push(response.body.id);
        written = true;
      } else {
        expect(response.status).toBe(503);
        expect(Date.now() - freedAt).toBeLessThan(5_000);
        await sleep(100);
      }
    }
    console.log(`first write ${Date.now() - freedAt} ms after space returned`);
    const readyAgain = await call(node, 'GET', '/readyz');
    expect(readyAgain.status).toBe(200);
    expect(node.child.exitCode).toBeNull();

    // Nothing acknowledged lost; the file is sound.
    node.child.kill('SIGTERM');
    await node.exited;
    const db = new SQLite(join(mountDir, 'relaykey.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const found = db.prepare(`select count(*) as n from credentials where id in (${acknowledged.map(() => '?').join(',')})`).get(...acknowledged) as {
        n: number;
      };
      expect(found.n).toBe(acknowledged.length);
    } finally {
      db.close();
    }
  }, 180_000);
});
