// The release artifact: `npm pack` gives a tarball with the built server and console that
// installs with production dependencies only and starts with no build step; `npm start` stops
// gracefully on SIGTERM; the runtime dependencies are exactly the bundle's externals.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module shared with scripts/bundle.mjs
import { bundleIsCurrent } from '../../scripts/source-hash.mjs';
import { ROOT } from '../helpers/server.js';

const folder = mkdtempSync(join(tmpdir(), 'relaykey-pack-'));

beforeAll(() => {
  const stale = !bundleIsCurrent(ROOT) || !existsSync(join(ROOT, 'dist/console/index.html'));
  if (stale) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', timeout: 600_000 });
}, 620_000);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Starts `command args` and resolves with its URL once it logs that it listens. */
function listening(child: ChildProcess, output: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line:\n${output.join('')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      const match = /relaykey listening on (http:\/\/[0-9.]+:\d+)/.exec(output.join(''));
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output.join('')}`));
    });
  });
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('packaging', () => {
  it('runtime dependencies are exactly the bundle externals', () => {
    expect(execFileSync(process.execPath, ['scripts/bundle-externals.mjs', 'check'], { cwd: ROOT, encoding: 'utf8' })).toMatch(
      /dependencies = bundle externals/,
    );
  });

  it('the packed tarball installs with production dependencies only and starts with no build', async () => {
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', folder], { cwd: ROOT, encoding: 'utf8' });
    const [info] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    const paths = info.files.map((f) => f.path);
    expect(paths).toContain('dist/relaykey.mjs');
    expect(paths).toContain('dist/console/index.html');
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.startsWith('dist/cli/'))).toBe(false);

    const prefix = join(folder, 'install');
    mkdirSync(prefix);
    writeFileSync(join(prefix, 'package.json'), '{"name":"relaykey-install-test","private":true}\n');
    // --ignore-scripts: better-sqlite3 would compile SQLite for minutes where its prebuilt binary
    // cannot be downloaded (as on the CI machine); its binary is taken from this checkout instead
    // (same Node ABI). Nothing of relaykey's own runs at install time either way.
    execFileSync('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(folder, info.filename)], {
      cwd: prefix,
      stdio: 'inherit',
      timeout: 300_000,
    });
    const addon = join(prefix, 'node_modules/better-sqlite3/build/Release');
    mkdirSync(addon, { recursive: true });
    copyFileSync(join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(addon, 'better_sqlite3.node'));
    const installed = readdirSync(join(prefix, 'node_modules'));
    for (const tool of ['typescript', 'esbuild', 'vite', 'vitest', 'tsx', 'geoip-lite', 'fastify', 'kysely']) expect(installed, tool).not.toContain(tool);
    console.log(
      `packed install: ${execFileSync('du', ['-sh', 'node_modules'], { cwd: prefix, encoding: 'utf8' }).trim()} (better-sqlite3's addon copied, not compiled)`,
    );

    const bin = join(prefix, 'node_modules/.bin/relaykey');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+/);
    const dataDir = join(folder, 'data');
    const child = spawn(bin, ['start'], {
      cwd: folder,
      env: { PATH: process.env.PATH, HOME: folder, RELAYKEY_DATA_DIR: dataDir, RELAYKEY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    const output: string[] = [];
    const url = await listening(child, output);
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const console = await fetch(`${url}/console/`);
      expect(console.status).toBe(200);
      expect(await console.text()).toContain('<script');
      expect((await fetch(`${url}/docs/`)).status).toBe(200);
      expect(existsSync(join(dataDir, 'relaykey.db'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 400_000);

  it('SIGTERM to `npm start` stops the server gracefully', async () => {
    const dataDir = join(folder, 'npm-start');
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, RELAYKEY_DATA_DIR: dataDir, RELAYKEY_DATABASE_URL: '', RELAYKEY_MASTER_KEY: '', RELAYKEY_PORT: '0', RELAYKEY_JOBS: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    const output: string[] = [];
    const url = await listening(child, output);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const code = await exited;
    expect(output.join('')).toMatch(/"signal":"SIGTERM".*shutting down/);
    expect([0, null]).toContain(code);
    // Nothing answers any more: the server went with npm.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 120_000);

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('docs/relaykey.service passes systemd-analyze verify', () => {
    const unit = join(folder, 'relaykey.service');
    copyFileSync(join(ROOT, 'docs/relaykey.service'), unit);
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    // Only complaints about this unit count (the host's own units may warn too).
    const ours = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes('relaykey.service'));
    expect(ours, ours.join('\n')).toEqual([]);
  });
});
