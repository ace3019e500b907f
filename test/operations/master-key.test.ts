// A start with another master key than the data was sealed with refuses (exit 78, one line);
// `keys status` reports the match; *_FILE variants; a database newer than the build refuses.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { KNOWN_MIGRATIONS } from '../../src/storage/migrations/index.js';
import { seedTenant } from '../helpers/api.js';
import { DIALECTS, ROOT, startTestServer, type TestServer } from '../helpers/server.js';

// Each step runs the real CLI (a new Node process through tsx, seconds each on a loaded machine).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

describe.each(DIALECTS)('master key check on %s', (dialect) => {
  let server: TestServer;
  let files: string;
  beforeAll(async () => {
    server = await startTestServer(dialect);
    await seedTenant(server);
    files = mkdtempSync(join(tmpdir(), 'relaykey-secrets-'));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(files, { recursive: true, force: true });
  });

  it('refuses to start with a different key, in one line that says how to find the right one', async () => {
    const other = randomBytes(32).toString('base64');
    server.env.RELAYKEY_MASTER_KEY_SAVED = server.env.RELAYKEY_MASTER_KEY;
    const run = await runWith(server, { RELAYKEY_MASTER_KEY: other }, ['start']);
    expect(run.code).toBe(78);
    expect(oneLine(run.stderr)).toMatch(
      /RELAYKEY_MASTER_KEY is not the key this database was sealed with \(key check [0-9a-f]{16} stored, this key gives [0-9a-f]{16}\).*master\.key/,
    );
    const status = await runWith(server, { RELAYKEY_MASTER_KEY: other }, ['keys', 'status', '--json']);
    expect(status.code).toBe(78);
    expect(JSON.parse(status.stdout)).toMatchObject({ master_key: 'mismatch' });
    const good = await server.cliJson<{ master_key: string; key_check: string }>(['keys', 'status']);
    expect(good.master_key).toBe('match');
    expect(JSON.parse(status.stdout).stored_key_check).toBe(good.key_check);
  });

  it('a database from before the check is tried against a tenant data key', async () => {
    await server.sql(`delete from instance_facts where name = 'master_key_check'`);
    const run = await runWith(server, { RELAYKEY_MASTER_KEY: randomBytes(32).toString('base64') }, ['tenant', 'create', '--name', 'X']);
    expect(run.code).toBe(78);
    expect(oneLine(run.stderr)).toMatch(/does not open this database's tenant data keys/);
    expect(await server.sql(`select * from instance_facts where name = 'master_key_check'`)).toHaveLength(0);
    // The right key records the check again.
    expect((await server.cliJson<{ master_key: string }>(['keys', 'status'])).master_key).toBe('unrecorded');
    await server.cliJson(['tenant', 'create', '--name', 'Y']);
    expect((await server.cliJson<{ master_key: string }>(['keys', 'status'])).master_key).toBe('match');
  });

  it('reads secrets from *_FILE, and refuses both at once or an unreadable file', async () => {
    const keyFile = join(files, 'master_key');
    writeFileSync(keyFile, `${server.env.RELAYKEY_MASTER_KEY}\n`, { mode: 0o600 });
    const urlFile = join(files, 'database_url');
    writeFileSync(urlFile, server.databaseUrl);
    const viaFiles = await runWith(
      server,
      { RELAYKEY_MASTER_KEY: '', RELAYKEY_MASTER_KEY_FILE: keyFile, RELAYKEY_DATABASE_URL: '', RELAYKEY_DATABASE_URL_FILE: urlFile },
      ['keys', 'status', '--json'],
    );
    expect(viaFiles.code, viaFiles.stderr).toBe(0);
    expect(JSON.parse(viaFiles.stdout).master_key).toBe('match');
    const both = await runWith(server, { RELAYKEY_MASTER_KEY_FILE: keyFile }, ['keys', 'status']);
    expect(both.code).toBe(78);
    expect(oneLine(both.stderr)).toMatch(/set RELAYKEY_MASTER_KEY or RELAYKEY_MASTER_KEY_FILE, not both/);
    const missing = await runWith(server, { RELAYKEY_MASTER_KEY: '', RELAYKEY_MASTER_KEY_FILE: join(files, 'nope') }, ['keys', 'status']);
    expect(missing.code).toBe(78);
    expect(oneLine(missing.stderr)).toMatch(/RELAYKEY_MASTER_KEY_FILE: cannot read .*nope \(ENOENT\)/);
    // The secret never appears in the error.
    expect(missing.stderr).not.toContain(server.env.RELAYKEY_MASTER_KEY as string);
    // A malformed root secret is a configuration error like the rest: exit 78, one line.
    const short = await runWith(server, { RELAYKEY_MASTER_KEY: 'dG9vIHNob3J0' }, ['keys', 'status']);
    expect(short.code).toBe(78);
    expect(oneLine(short.stderr)).toMatch(/RELAYKEY_MASTER_KEY must be base64 of exactly 32 bytes \(got 9\)/);
  });

  it('a binary older than the database refuses, naming both versions', async () => {
    await server.sql(`insert into kysely_migration (name, timestamp) values ('999-from-the-future', '2030-01-01T00:00:00.000Z')`);
    await server.sql(`update instance_facts set value = '9.9.9' where name = 'schema_written_by'`);
    try {
      const run = await server.cli(['start']);
      expect(run.code).toBe(78);
      expect(oneLine(run.stderr)).toMatch(
        new RegExp(
          `this relaykey ${VERSION.replace(/\./g, '\\.')} \\(schema ${KNOWN_MIGRATIONS.at(-1)}\\) is older than the database \\(schema 999-from-the-future, migrated by relaykey 9\\.9\\.9\\)`,
        ),
      );
    } finally {
      await server.sql(`delete from kysely_migration where name = '999-from-the-future'`);
    }
  });
});

describe('embedded key file', () => {
  it('a lost master.key refuses the start and leaves no new key file behind', async () => {
    const server = await startTestServer('sqlite', { env: { RELAYKEY_MASTER_KEY: '' } });
    try {
      await seedTenant(server);
      const keyFile = join(server.env.RELAYKEY_DATA_DIR as string, 'master.key');
      expect(existsSync(keyFile)).toBe(true);
      const saved = readFileSync(keyFile);
      rmSync(keyFile);
      const run = await server.cli(['start']);
      expect(run.code).toBe(78);
      expect(run.stderr).toMatch(/not the key this database was sealed with/);
      expect(existsSync(keyFile)).toBe(false);
      writeFileSync(keyFile, saved, { mode: 0o600 });
      expect((await server.cliJson<{ master_key: string }>(['keys', 'status'])).master_key).toBe('match');
    } finally {
      await server.close();
    }
  });
});

describe('the CLI', () => {
  it('prints its version', async () => {
    const server = await startTestServer('sqlite');
    try {
      const run = await server.cli(['--version']);
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(VERSION);
    } finally {
      await server.close();
    }
  });

  it('RELAYKEY_DATABASE_PASSWORD(_FILE) goes into the PostgreSQL URL', () => {
    const config = loadConfig({ RELAYKEY_DATABASE_URL: 'postgres://relaykey@db.internal:5432/relaykey', RELAYKEY_DATABASE_PASSWORD: 'p@ss word' });
    expect(new URL(config.databaseUrl).password).toBe('p%40ss%20word');
    expect(() => loadConfig({ RELAYKEY_DATABASE_URL: 'postgres://u:x@h/db', RELAYKEY_DATABASE_PASSWORD: 'y' })).toThrow(/already has a password/);
  });
});

async function runWith(server: TestServer, env: Record<string, string>, args: string[]) {
  const saved = { ...server.env };
  Object.assign(server.env, env);
  try {
    return await server.cli(args);
  } finally {
    for (const key of Object.keys(server.env)) delete server.env[key];
    Object.assign(server.env, saved);
  }
}
