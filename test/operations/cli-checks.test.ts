// The CLI checks its input before it touches the database, exits non-zero for an unknown tenant,
// and refuses to create a database by accident when run from another directory.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const execFileAsync = promisify(execFile);

describe('CLI input checks', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.close());

  it('refuses a bad email, TOTP secret or domain and an unknown tenant, in one line and non-zero', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['admin', 'create', '--email', 'notanemail', '--password', 'a long enough password'], /--email "notanemail" is not an email address/],
      [
        ['admin', 'create', '--email', 'ops@example.com', '--password', 'a long enough password', '--totp-secret', 'not base32!'],
        /--totp-secret must be base32/,
      ],
      [['admin', 'create', '--email', 'ops@example.com', '--password', 'a long enough password', '--totp-secret', 'ABC189'], /--totp-secret must be base32/],
      [['tenant', 'create', '--name', 'Acme', '--domain', 'not a domain'], /--domain "not a domain" is not a domain name/],
      [['audit', 'verify', '--tenant', 'nope'], /NOT_FOUND: tenant nope not found/],
    ];
    for (const [args, pattern] of cases) {
      const result = await server.cli(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    }
    // Nothing was written.
    expect(await server.sql(`select * from admins where email = 'ops@example.com'`)).toHaveLength(0);
    // A good base32 secret is taken.
    const ok = await server.cli(['admin', 'create', '--email', 'ops@example.com', '--password', 'a long enough password', '--totp-secret', 'JBSWY3DPEHPK3PXP']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('run from another directory without a configured data directory, it asks for --data-dir instead of creating a database', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'relaykey-elsewhere-'));
    const env = { ...server.env };
    delete env.RELAYKEY_DATA_DIR;
    delete env.RELAYKEY_DATABASE_URL;
    const run = async (args: string[]) => {
      try {
        const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), ...args], {
          env,
          cwd: elsewhere,
        });
        return { stdout, stderr, code: 0 };
      } catch (error) {
        const e = error as { stdout: string; stderr: string; code: number };
        return { stdout: e.stdout, stderr: e.stderr, code: e.code };
      }
    };
    try {
      const refused = await run(['tenant', 'create', '--name', 'Acme']);
      expect(refused.code).toBe(78);
      expect(refused.stderr).toMatch(/no relaykey database at .*data\/relaykey\.db.*pass --data-dir DIR or set RELAYKEY_DATA_DIR/);
      expect(existsSync(join(elsewhere, 'data'))).toBe(false);
      // --data-dir points at the real one.
      const withDir = await run(['--data-dir', server.env.RELAYKEY_DATA_DIR as string, 'keys', 'status', '--json']);
      expect(withDir.code, withDir.stderr).toBe(0);
      expect(JSON.parse(withDir.stdout).master_key).toBe('match');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
