// Reads and writes the instance_facts table (migration 008): one value per name.
import type { Kysely } from 'kysely';
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
