// `npm start` and bin/relaykey run the single-file bundle dist/relaykey.mjs (scripts/bundle.mjs),
// not the sources the rest of the suite runs through tsx. This runs the bundle the way an
// operator does, on both dialects (and with Redis), and checks that every part that loads
// files or external packages works from it: HTTP API, fast path, nginx endpoint, docs,
// console, CLI.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SeededTenant, seedTenant } from '../helpers/api.js';
// @ts-expect-error: a plain JavaScript module shared with scripts/bundle.mjs
import { bundleIsCurrent } from '../../scripts/source-hash.mjs';
import { type ServerProcess, spawnServer, stopServerProcess } from '../helpers/process.js';
import { DIALECTS, ROOT, startTestServer, type TestServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);
const BIN = [join(ROOT, 'bin/relaykey.js')];

beforeAll(() => {
  // npm ci builds it (prepare); after editing src/ locally, rebuild so the test checks this code.
  const stale = !bundleIsCurrent(ROOT) || !existsSync(join(ROOT, 'dist/console/index.html'));
  if (stale) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 600_000 });
}, 620_000);

const VARIANTS = DIALECTS.flatMap((dialect) => [
  { name: `${dialect}`, dialect, env: {} as Record<string, string> },
  ...(dialect === 'postgres' ? [{ name: 'postgres with Redis', dialect, env: { RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' } }] : []),
]);

describe.each(VARIANTS)('the bundle (npm start, bin/relaykey) on $name', ({ dialect, env }) => {
  let server: TestServer;
  let seed: SeededTenant;
  let bundled: ServerProcess;
  let secret: string;

  beforeAll(async () => {
    // Where nginx should send an allowed client (the nginx endpoint answers with it).
    server = await startTestServer(dialect, { env: { ...env, RELAYKEY_MAIL_BACKENDS: 'smtp=127.0.0.1:10025,imap=127.0.0.1:10143,pop3=127.0.0.1:10110' } });
    seed = await seedTenant(server);
    const created = await call(server, 'POST', `/api/v1/tenants/${seed.tenantId}/credentials`, {
      token: seed.bearer,
      body: { name: 'bundle', scopes: ['app'], login_id: seed.loginId },
    });
    expect(created.status).toBe(201);
    secret = created.body.secret;
    bundled = await spawnServer({ ...server.env, RELAYKEY_JOBS: 'on' }, 90_000, BIN);
  }, 180_000);
  afterAll(async () => {
    await stopServerProcess(bundled);
    await server?.close();
  });

  it('serves health, OpenAPI, docs and the console', async () => {
    expect((await fetch(`${bundled.url}/healthz`)).status).toBe(200);
    const openapi = await fetch(`${bundled.url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
    const docs = await fetch(`${bundled.url}/docs/`);
    expect(docs.status).toBe(200);
    const console = await fetch(`${bundled.url}/console/`);
    expect(console.status).toBe(200);
    expect(await console.text()).toContain('<script');
  });

  it('verifies through the fast path and the nginx endpoint, and answers the management API', async () => {
    const verified = await fetch(`${bundled.url}/api/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seed.verifier}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: seed.loginAddress, password: secret, protocol: 'imap' }),
    });
    expect(verified.status).toBe(200);
    expect(((await verified.json()) as { valid: boolean }).valid).toBe(true);
    const denied = await fetch(`${bundled.url}/api/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seed.verifier}`, 'content-type': 'application/json' },
      // The last character changed (to another one: a key may already end in 'x').
      body: JSON.stringify({ username: seed.loginAddress, password: `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`, protocol: 'imap' }),
    });
    expect(denied.status).toBe(401);
    const nginx = await fetch(`${bundled.url}/auth/nginx`, {
      headers: {
        authorization: `Bearer ${seed.verifier}`,
        'auth-method': 'plain',
        'auth-user': seed.loginAddress,
        'auth-pass': secret,
        'auth-protocol': 'imap',
        'auth-login-attempt': '1',
        'client-ip': '127.0.0.1',
      },
    });
    expect(nginx.headers.get('auth-status')).toBe('OK');
    expect(nginx.headers.get('auth-port')).toBe('10143');
    const listed = await fetch(`${bundled.url}/api/v1/tenants/${seed.tenantId}/credentials`, { headers: { authorization: `Bearer ${seed.bearer}` } });
    expect(listed.status).toBe(200);
    const bad = await fetch(`${bundled.url}/api/v1/tenants/${seed.tenantId}/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${seed.bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', scopes: ['nope'] }),
    });
    expect(bad.status).toBe(400);
  });

  it('runs CLI commands against the same database', async () => {
    const { stdout } = await execFileAsync(process.execPath, [...BIN, 'audit', 'verify', '--json'], { cwd: ROOT, env: server.env });
    expect(stdout).toContain('"ok"');
    const help = await execFileAsync(process.execPath, [...BIN, '--help'], { cwd: ROOT, env: server.env });
    expect(help.stdout).toContain('credentials');
  });
});

describe('the bundle alone on its own SQLite file', () => {
  it('checkpoints on a worker while serving, and on SIGTERM closes the database cleanly (WAL checkpointed and removed)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relaykey-bundle-'));
    const file = join(dataDir, 'relaykey.db');
    const env = {
      ...process.env,
      RELAYKEY_DATABASE_URL: `sqlite:${file}`,
      RELAYKEY_DATA_DIR: dataDir,
      RELAYKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      RELAYKEY_JOBS: 'off',
    };
    try {
      const bundled = await spawnServer(env, 90_000, BIN);
      const created = await execFileAsync(process.execPath, [...BIN, 'tenant', 'create', '--name', 'Shutdown', '--json'], { env, cwd: ROOT });
      expect(JSON.parse(created.stdout).id).toBeTruthy();
      expect(existsSync(`${file}-wal`)).toBe(true);
      bundled.child.kill('SIGTERM');
      expect(await bundled.exited).toBe(0);
      // The last connection to close checkpoints and deletes the WAL. Before the shutdown waited
      // for the checkpoint worker, the process could end first and leave the WAL behind.
      expect(existsSync(`${file}-wal`)).toBe(false);
      expect(bundled.output.join('')).not.toMatch(/checkpoint worker failed/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
