// Reads and writes the instance_facts table (migration 008): one value per name.
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

export type InstanceFact = 'master_key_check' | 'schema_written_by';

export async function readFact(db: Kysely<Database>, name: InstanceFact): Promise<string | null> {
  const row = await db.selectFrom('instance_facts').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value ?? null;
}

/** Writes the fact unless one is there already (two nodes starting at once agree on the first); returns the stored value. */
export async function recordFactOnce(db: Kysely<Database>, name: InstanceFact, value: string): Promise<string> {
  await db
    .insertInto('instance_facts')
    .values({ name, value, updated_at: new Date().toISOString() })
    .onConflict((c) => c.column('name').doNothing())
    .execute();
  return (await readFact(db, name)) ?? value;
}

export async function writeFact(db: Kysely<Database>, name: InstanceFact, value: string): Promise<void> {
  await db
    .insertInto('instance_facts')
    .values({ name, value, updated_at: new Date().toISOString() })
    .onConflict((c) => c.column('name').doUpdateSet({ value, updated_at: new Date().toISOString() }))
    .execute();
}

/** One round trip to the database (doctor's reachability check). */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The migrations the database has run, oldest first; [] for a fresh database. */
export async function appliedMigrationNames(db: Kysely<Database>): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    return rows.map((r) => r.name);
  } catch {
    return [];
  }
}

/** The oldest wrapped tenant data key, if any (a database from before the key check is tried against it). */
export function oldestTenantDataKey(db: Kysely<Database>) {
  return db.selectFrom('tenant_data_keys').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
}
