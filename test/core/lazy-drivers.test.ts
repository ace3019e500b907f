// The SQLite default loads neither the PostgreSQL driver nor the Redis client: together they
// were about 120 ms of a ~900 ms start-up at 1M keys (CPU profile of the bundle). A server that
// is configured for them loads both, which shows that the check below can see them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SOURCE_CLI, spawnServer } from '../helpers/process.js';
import { createPostgresSchema, POSTGRES_URL, ROOT } from '../helpers/server.js';

const HOOK = join(ROOT, 'test/helpers/loaded-packages-hook.mjs');
const dirs: string[] = [];

/** Starts `relaykey start` with `env`, stops it with SIGTERM, and names the packages it loaded. */
async function packagesLoadedBy(env: Record<string, string>): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'relaykey-lazy-'));
  dirs.push(dir);
  const listFile = join(dir, 'loaded.json');
  const server = await spawnServer(
    {
      ...process.env,
      RELAYKEY_DATA_DIR: dir,
      RELAYKEY_DATABASE_URL: `sqlite:${join(dir, 'relaykey.db')}`,
      RELAYKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      RELAYKEY_JOBS: 'off',
      LOADED_MODULES_FILE: listFile,
      ...env,
    },
    90_000,
    ['--import', HOOK, ...SOURCE_CLI],
  );
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  const files = JSON.parse(readFileSync(listFile, 'utf8')) as string[];
  return new Set(files.map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((name): name is string => !!name));
}

describe('drivers load only when configured', () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a SQLite server loads neither pg nor ioredis', async () => {
    const loaded = await packagesLoadedBy({});
    expect(loaded.has('better-sqlite3')).toBe(true);
    expect(loaded.has('pg')).toBe(false);
    expect(loaded.has('ioredis')).toBe(false);
  }, 120_000);

  it.skipIf(!POSTGRES_URL)(
    'a PostgreSQL server with Redis loads both',
    async () => {
      const schema = await createPostgresSchema();
      try {
        const loaded = await packagesLoadedBy({ RELAYKEY_DATABASE_URL: schema.url, RELAYKEY_REDIS_URL: 'redis://127.0.0.1:6379' });
        expect(loaded.has('pg')).toBe(true);
        expect(loaded.has('ioredis')).toBe(true);
      } finally {
        await schema.drop();
      }
    },
    120_000,
  );
});
