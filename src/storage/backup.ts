// Online backup of the embedded SQLite database: `VACUUM INTO` copies one consistent snapshot
// (a single read transaction, so writers carry on and the copy never restarts under load) into
// a temporary file beside the target, which is renamed into place once complete (mode 0600:
// it holds key hashes and sealed secrets). PostgreSQL is backed up with pg_dump (docs/operations.md).
import { chmodSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';

export interface BackupResult {
  file: string;
  bytes: number;
  /** The master key check stored in the copy (null for a database that has none yet). */
  keyCheck: string | null;
  /** The newest migration in the copy. */
  schema: string | null;
}

export class BackupError extends Error {}

export function backupSqlite(source: string, out: string): BackupResult {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  if (existsSync(out)) throw new BackupError(`${out} exists already; choose a new file (a backup never overwrites)`);
  if (!existsSync(dirname(out))) throw new BackupError(`the folder ${dirname(out)} does not exist`);
  const temporary = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  const db = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(temporary);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new BackupError(`backup failed: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  chmodSync(temporary, 0o600);
  renameSync(temporary, out);
  const copy = new SQLite(out, { readonly: true, fileMustExist: true });
  try {
    const check = copy.prepare(`select value from instance_facts where name = 'master_key_check'`).pluck().get() as string | undefined;
    const schema = copy.prepare('select max(name) from kysely_migration').pluck().get() as string | null;
    return { file: out, bytes: statSync(out).size, keyCheck: check ?? null, schema };
  } catch {
    return { file: out, bytes: statSync(out).size, keyCheck: null, schema: null };
  } finally {
    copy.close();
  }
}
