// What every start checks before serving: the database is not newer than this build, and the
// master key is the one the data was sealed with. A failed check is a ConfigError: one line,
// exit code 78 (EX_CONFIG), nothing written.
import { ConfigError } from './config.js';
import { Envelope } from './crypto/envelope.js';
import { keyCheckValue, type RootKeyRing } from './crypto/root-secret.js';
import type { DatabaseHandle } from './storage/connect.js';
import { appliedMigrationNames, oldestTenantDataKey, readFact, recordFactOnce, writeFact } from './storage/instance-facts.js';
import { KNOWN_MIGRATIONS } from './storage/migrations/index.js';
import { relaykeyVersion } from './version.js';

/** The migrations the database has run, oldest first; [] for a fresh database. */
export async function appliedMigrations(handle: DatabaseHandle): Promise<string[]> {
  return appliedMigrationNames(handle.db);
}

/** Refuses a database migrated by a newer relaykey (it has migrations this build does not know). */
export async function refuseNewerSchema(handle: DatabaseHandle): Promise<void> {
  const applied = await appliedMigrations(handle);
  const unknown = applied.filter((name) => !KNOWN_MIGRATIONS.includes(name));
  if (unknown.length === 0) return;
  let writtenBy = 'a newer relaykey';
  try {
    const fact = await readFact(handle.db, 'schema_written_by');
    if (fact) writtenBy = `relaykey ${fact}`;
  } catch {
    // The facts table itself may be what is missing in an odd database; the message still stands.
  }
  throw new ConfigError(
    `this relaykey ${relaykeyVersion()} (schema ${KNOWN_MIGRATIONS.at(-1)}) is older than the database (schema ${unknown.at(-1)}, migrated by ${writtenBy}): run that version or newer, or restore a backup taken before the upgrade`,
  );
}

/** Records which version migrated the schema, after this start applied migrations. */
export async function recordSchemaWriter(handle: DatabaseHandle): Promise<void> {
  await writeFact(handle.db, 'schema_written_by', relaykeyVersion());
}

export type MasterKeyMatch =
  | { status: 'match'; check: string }
  | { status: 'mismatch'; check: string; expected: string }
  /** No check value stored yet (a database from before it existed, or not migrated). */
  | { status: 'unrecorded'; check: string };

export async function masterKeyMatch(handle: DatabaseHandle, ring: RootKeyRing): Promise<MasterKeyMatch> {
  const check = keyCheckValue(ring);
  const expected = await readFact(handle.db, 'master_key_check');
  if (expected === null) return { status: 'unrecorded', check };
  return expected === check ? { status: 'match', check } : { status: 'mismatch', check, expected };
}

export function mismatchMessage(match: { check: string; expected: string }): string {
  return (
    `RELAYKEY_MASTER_KEY is not the key this database was sealed with (key check ${match.expected} stored, this key gives ${match.check}): ` +
    'start with the original key (the master.key file of the first data directory, or the value kept in your secret store); ' +
    '`relaykey keys status` prints the key check of the key it is given'
  );
}

/**
 * Refuses a master key other than the one the data was sealed with. The first start stores the
 * key check; a database from before that check is tried against one tenant data key first.
 */
export async function enforceMasterKey(handle: DatabaseHandle, ring: RootKeyRing): Promise<void> {
  const match = await masterKeyMatch(handle, ring);
  if (match.status === 'mismatch') throw new ConfigError(mismatchMessage(match));
  if (match.status === 'match') return;
  const wrapped = await oldestTenantDataKey(handle.db);
  if (wrapped) {
    try {
      if (!ring.keys.has(wrapped.root_key_version)) throw new Error('unknown root key version');
      new Envelope(ring).unwrapDataKey(wrapped.tenant_id, wrapped.version, {
        wrappedKey: wrapped.wrapped_key,
        rootKeyVersion: wrapped.root_key_version,
      });
    } catch {
      throw new ConfigError(
        `RELAYKEY_MASTER_KEY does not open this database's tenant data keys (root key v${wrapped.root_key_version}): start with the original key (the master.key file of the first data directory, or the value kept in your secret store)`,
      );
    }
  }
  const stored = await recordFactOnce(handle.db, 'master_key_check', match.check);
  if (stored !== match.check) throw new ConfigError(mismatchMessage({ check: match.check, expected: stored }));
}
