// Migrations on a PostgreSQL database that other schemas share. Kysely's own introspection lists
// every column of every schema and looks each schema up again by name, so a schema dropped by
// someone else meanwhile failed relaykey's start-up (seen in CI, where test files drop their
// schemas while others start). relaykey's dialect looks at its own schema only.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../../src/storage/connect.js';
import { POSTGRES_URL } from '../helpers/server.js';

const schemaName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

describe.skipIf(!POSTGRES_URL)('PostgreSQL migrations beside other schemas', () => {
  const url = POSTGRES_URL as string;
  const own = schemaName('rk_migrations');
  const admin = new pg.Client({ connectionString: url });
  let handle: DatabaseHandle;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${own}`);
    handle = openDatabase(url, { schema: own, poolSize: 2 });
  });

  afterAll(async () => {
    await handle?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${own} CASCADE`);
    await admin.end();
  });

  it('are not disturbed by other schemas being created and dropped at the same time', async () => {
    const churner = new pg.Client({ connectionString: url });
    await churner.connect();
    let churning = true;
    let dropped = 0;
    const churn = (async () => {
      while (churning) {
        const other = schemaName('rk_churn');
        await churner.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.t (id serial primary key, a text, b text)`);
        await churner.query(`DROP SCHEMA ${other} CASCADE`);
        dropped += 1;
      }
    })();
    const failures: string[] = [];
    let runs = 0;
    try {
      // Kysely's introspection failed about once in 200 calls under this churn; give it ~1,000.
      // At least 60 runs across at least 20 drops, however slow a loaded machine is (60 s at most).
      const until = Date.now() + 4000;
      const deadline = Date.now() + 60_000;
      while (runs < 400 && (Date.now() < until || runs <= 50 || dropped <= 20) && Date.now() < deadline) {
        try {
          await migrateToLatest(handle);
          await handle.db.introspection.getTables();
        } catch (error) {
          failures.push((error as Error).message);
        }
        runs += 1;
      }
    } finally {
      churning = false;
      await churn;
      await churner.end();
    }
    expect(failures).toEqual([]);
    expect(runs).toBeGreaterThan(50);
    expect(dropped).toBeGreaterThan(20);
  }, 120_000);

  it('introspects only its own schema', async () => {
    const other = schemaName('rk_other');
    await admin.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.credentials (id serial primary key)`);
    try {
      const tables = await handle.db.introspection.getTables({ withInternalKyselyTables: true });
      expect(new Set(tables.map((table) => table.schema))).toEqual(new Set([own]));
      expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['credentials', 'kysely_migration', 'kysely_migration_lock']));
      expect(await migrateToLatest(handle)).toEqual([]);
    } finally {
      await admin.query(`DROP SCHEMA ${other} CASCADE`);
    }
  });
});
