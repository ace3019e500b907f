// The CLI contract: JSON output, one-line errors, and `start` with graceful shutdown.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, ROOT, startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('cli on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect);
  });
  afterAll(async () => server?.close());

  it('follows the DESIGN contract with --json', async () => {
    const admin = await server.cliJson<{ id: string }>(['admin', 'create', '--email', 'ops@relaykey.test', '--password', 'a long enough password']);
    expect(admin.id).toMatch(/^[0-9a-f-]{36}$/);
    const tenant = await server.cliJson<{ id: string; smtp_username: string }>(['tenant', 'create', '--name', 'Acme', '--domain', 'acme.test']);
    expect(tenant.smtp_username).toBe('admin@acme.test');
    const custom = await server.cliJson<{ smtp_username: string }>([
      'tenant',
      'create',
      '--name',
      'Beta',
      '--domain',
      'beta.test',
      '--smtp-username',
      'relay@beta.test',
    ]);
    expect(custom.smtp_username).toBe('relay@beta.test');
    const login = await server.cliJson<{ id: string }>(['login', 'create', '--tenant', tenant.id, '--address', 'alice@acme.test']);
    expect(login.id).toMatch(/^[0-9a-f-]{36}$/);
    const bearer = await server.cliJson<{ token: string }>(['token', 'create', '--kind', 'bearer', '--tenant', tenant.id, '--login', 'alice@acme.test']);
    expect(bearer.token).toMatch(/^rkb_/);
    const serverKey = await server.cliJson<{ token: string }>(['token', 'create', '--kind', 'server', '--tenant', tenant.id]);
    expect(serverKey.token).toMatch(/^rkx_/);
    const verifier = await server.cliJson<{ id: string; token: string }>(['token', 'create', '--kind', 'verifier', '--name', 'nginx']);
    expect(verifier.token).toMatch(/^rkv_/);
  }, 240_000); // each step is a new CLI process: 10-20 s apiece on a loaded 2-core machine

  it('fails with one clear line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tenant', 'create'], /required option '--name/],
      [['login', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--address', 'a@b.test'], /NOT_FOUND: tenant not found/],
      [['token', 'create', '--kind', 'root'], /--kind must be bearer, server or verifier/],
      [['token', 'create', '--kind', 'bearer'], /needs a tenant/],
      [['admin', 'create', '--email', 'x@y.test', '--password', 'short'], /at least 12 characters/],
    ];
    for (const [args, pattern] of cases) {
      const result = await server.cli(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((l) => !l.includes('npm warn')).length,
        result.stderr,
      ).toBe(1);
      expect(result.stderr).toMatch(pattern);
    }
  });
});

describe('relaykey start', () => {
  it('creates the database and a 0600 key file on first start, serves, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relaykey-start-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'start'], {
      cwd: ROOT,
      env: { ...process.env, RELAYKEY_DATA_DIR: dataDir, RELAYKEY_PORT: '0', RELAYKEY_DATABASE_URL: '', RELAYKEY_MASTER_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line: ${output}`)), 30_000);
      child.stdout.on('data', () => {
        const match = /relaykey listening on (http:\/\/[^"\s]+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect(output).toMatch(/RELAYKEY_MASTER_KEY is not set/);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'relaykey.db')).size).toBeGreaterThan(0);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
