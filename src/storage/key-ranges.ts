// Walks a table in ranges of its integer key, giving the event loop a turn between ranges:
// on SQLite every query runs synchronously on the event loop, so a scan the database cannot
// answer from an index is done as many short queries instead of one long one.
import { type Kysely, sql } from 'kysely';
import { yieldToEventLoop } from '../event-loop.js';
import type { Database } from './schema.js';

/** The tables walked this way and the integer key of each (SQLite's implicit rowid for sessions). */
type KeyedTable = { table: 'credentials'; key: 'num_id' } | { table: 'credential_sessions'; key: 'rowid' };

/**
 * The ranges (after, upTo] that together cover the table's keys as they are when the walk
 * starts, each at most `width` keys wide, so a range never holds more than `width` rows however
 * sparse the keys are. Keys added later are left out: a job walks the rows that existed when it
 * started.
 */
export async function* keyRanges(db: Kysely<Database>, { table, key }: KeyedTable, width: number): AsyncGenerator<{ after: number; upTo: number }> {
  if (!Number.isSafeInteger(width) || width < 1) throw new Error(`range width must be a positive integer (got ${width})`);
  // Separate min and max queries: SQLite answers a lone min() or max() from the key.
  const bound = async (fn: 'min' | 'max') => {
    const { rows } = await sql<{ n: number | string | bigint | null }>`SELECT ${sql.raw(fn)}(${sql.ref(key)}) AS n FROM ${sql.table(table)}`.execute(db);
    const value = rows[0]?.n;
    return value === null || value === undefined ? null : Number(value);
  };
  const first = await bound('min');
  const last = await bound('max');
  if (first === null || last === null) return;
  for (let after = first - 1; after < last; after += width) {
    if (after >= first) await yieldToEventLoop();
    yield { after, upTo: Math.min(after + width, last) };
  }
}
