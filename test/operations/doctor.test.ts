// `relaykey doctor` names what is wrong in plain words and exits non-zero, without changing anything.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../src/doctor.js';
import { DIALECTS, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe.each(DIALECTS)('relaykey doctor on %s', (dialect) => {
  let server: TestServer;
  let backend: Server;
  let backendPort: number;
  let closedPort: number;
  const folder = mkdtempSync(join(tmpdir(), 'relaykey-doctor-'));

  beforeAll(async () => {
    server = await startTestServer(dialect);
    backend = createServer((socket) => socket.end());
    backendPort = await listen(backend);
    const closed = createServer();
    closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
  });
  afterAll(async () => {
    backend?.close();
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function doctor(env: Record<string, string | undefined>) {
    const saved = { ...server.env };
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete server.env[key];
      else server.env[key] = value;
    }
    try {
      const run = await server.cli(['doctor', '--json']);
      const report = JSON.parse(run.stdout) as { ok: boolean; checks: CheckResult[] };
      const find = (check: string) => report.checks.filter((c) => c.check === check);
      return { ...run, report, find };
    } finally {
      for (const key of Object.keys(server.env)) delete server.env[key];
      Object.assign(server.env, saved);
    }
  }

  it('passes a healthy installation', async () => {
    const run = await doctor({ RELAYKEY_MAIL_BACKENDS: `imap=127.0.0.1:${backendPort}` });
    expect(run.code, run.stdout).toBe(0);
    expect(run.report.ok).toBe(true);
    expect(run.find('database')[0]?.status).toBe('ok');
    expect(run.find('file modes').some((c) => c.status === 'ok')).toBe(true);
    expect(run.find('schema')[0]).toMatchObject({ status: 'ok' });
    expect(run.find('master key')[0]).toMatchObject({ status: 'ok' });
    expect(run.find('mail backend')[0]).toMatchObject({ status: 'ok' });
    // How changes reach other nodes: NOTIFY on PostgreSQL; on SQLite alone, the cache TTL.
    expect(run.find('change feed')[0]).toMatchObject({ status: 'ok' });
    expect(run.find('change feed')[0]?.message).toMatch(
      dialect === 'postgres' ? /^PostgreSQL LISTEN\/NOTIFY: changes reach every node at once$/ : /^none \(one SQLite node\)/,
    );
    // Human output too.
    const human = await server.cli(['doctor']);
    expect(human.stdout).toMatch(/no problems found/);
  });

  it('names each problem and exits 1', async () => {
    const keyFile = join(folder, 'master_key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'));
    chmodSync(keyFile, 0o644);
    const run = await doctor({
      RELAYKEY_MASTER_KEY: undefined,
      RELAYKEY_MASTER_KEY_FILE: keyFile,
      RELAYKEY_REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      RELAYKEY_MAIL_BACKENDS: `smtp=127.0.0.1:${closedPort}`,
    });
    expect(run.code).toBe(1);
    expect(run.report.ok).toBe(false);
    expect(run.find('master key')[0]).toMatchObject({ status: 'fail' });
    expect(run.find('master key')[0]?.message).toMatch(/not the key this database was sealed with/);
    expect(run.find('redis')[0]).toMatchObject({ status: 'fail' });
    expect(run.find('change feed')[0]).toMatchObject(
      dialect === 'postgres'
        ? { status: 'ok', message: expect.stringContaining('(Redis pub/sub not reachable)') }
        : { status: 'warn', message: expect.stringMatching(/^Redis pub\/sub not reachable: nodes would only poll/) },
    );
    expect(run.find('mail backend')[0]?.message).toMatch(new RegExp(`smtp 127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`));
    expect(run.find('file modes').some((c) => c.status === 'fail' && c.message.includes('RELAYKEY_MASTER_KEY_FILE') && c.message.includes('0644'))).toBe(true);
    const human = await server.cli(['doctor']);
    expect(human.stdout).toMatch(/^ok {2}\s*database/m);
  });

  it('reports a configuration it cannot load and an unreachable database', async () => {
    const bad = await doctor({ RELAYKEY_PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.find('configuration')[0]?.message).toMatch(/RELAYKEY_PORT must be a whole number/);
    const unreachable = await doctor({ RELAYKEY_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/none` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.find('database')[0]).toMatchObject({ status: 'fail' });
  });
});
