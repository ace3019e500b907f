// `relaykey backup` while the server answers verifications; the copy, restored into a new data
// directory with the same master key, verifies the same keys and passes `audit verify`.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server.js';
import { call, type SeededTenant, seedTenant, verify } from '../helpers/api.js';
import { runCli, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

describe('backup and restore (SQLite)', () => {
  let server: TestServer;
  let seed: SeededTenant;
  const secrets: string[] = [];
  let folder: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    seed = await seedTenant(server);
    for (let i = 0; i < 5; i += 1) {
      const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
        token: seed.bearer,
        body: { name: `key ${i}`, scopes: ['imap', 'smtp'], login_id: seed.loginId },
      });
      expect(created.status).toBe(201);
      secrets.push(created.body.secret);
    }
    await server.cliJson(['credentials', 'import', '--tenant', seed.tenantId, '--count', '2000']);
    folder = mkdtempSync(join(tmpdir(), 'relaykey-backup-'));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('backs up under verify load; the restored copy verifies keys and passes audit verify', async () => {
    // Verify load (and the usage writes it causes) for the whole backup.
    let stop = false;
    let answered = 0;
    const load = (async () => {
      while (!stop) {
        const batch = await Promise.all(
          secrets.map((secret) =>
            verify(server, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'imap', client_ip: `192.0.2.${1 + (answered % 200)}` }),
          ),
        );
        for (const answer of batch) expect(answer.status).toBe(200);
        answered += batch.length;
      }
    })();
    const out = join(folder, 'relaykey-backup.db');
    let backup: Awaited<ReturnType<typeof runCli>>;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      backup = await runCli(server.env, ['backup', '--out', out, '--json']);
      // A change after the backup is not in the copy.
      await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
        token: seed.bearer,
        body: { name: 'after', scopes: ['imap'], login_id: seed.loginId },
      });
    } finally {
      stop = true;
      await load;
    }
    expect(backup.code, backup.stderr).toBe(0);
    expect(answered).toBeGreaterThan(0);
    const written = JSON.parse(backup.stdout);
    expect(written.file).toBe(out);
    expect(written.key_check).toMatch(/^[0-9a-f]{16}$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // Never overwrites.
    const again = await runCli(server.env, ['backup', '--out', out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists already/);

    // Restore: the copy as relaykey.db of a fresh data directory, the same master key.
    const restored = mkdtempSync(join(tmpdir(), 'relaykey-restored-'));
    try {
      copyFileSync(out, join(restored, 'relaykey.db'));
      const env: NodeJS.ProcessEnv = { ...server.env, RELAYKEY_DATA_DIR: restored, RELAYKEY_DATABASE_URL: `sqlite:${join(restored, 'relaykey.db')}` };
      const audit = await runCli(env, ['audit', 'verify', '--json']);
      expect(audit.code, audit.stderr).toBe(0);
      expect(JSON.parse(audit.stdout).ok).toBe(true);
      const status = await runCli(env, ['keys', 'status', '--json']);
      expect(JSON.parse(status.stdout).master_key).toBe('match');
      const copy = await startServer(loadConfig(env), { logger: createLogger({ level: 'silent' }) });
      try {
        for (const secret of secrets) {
          const answer = await verify(copy, seed.verifier, { username: seed.loginAddress, password: secret, protocol: 'imap' });
          expect(answer.status).toBe(200);
        }
        const listed = await call(copy, 'GET', `/api/v1/tenants/${seed.tenantId}/credentials?per_page=100`, { token: seed.bearer });
        expect(listed.status).toBe(200);
        expect(JSON.stringify(listed.body)).not.toContain('"after"');
      } finally {
        await copy.stop();
      }
    } finally {
      rmSync(restored, { recursive: true, force: true });
    }
  });

  it('PostgreSQL is pointed at pg_dump', async () => {
    const result = await runCli({ ...server.env, RELAYKEY_DATABASE_URL: 'postgres://relaykey@127.0.0.1:1/none' }, ['backup', '--out', join(folder, 'x.db')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pg_dump/);
  });
});
