// Which database errors are faults of the database itself (unreachable, timed out, read-only,
// disk full) rather than of the request: those become a 503 with a code naming the cause and
// Retry-After, never a 500. Everything else passes through untouched.
import { AppError, type DatabaseFaultCode, isDatabaseFault } from '../errors.js';

/** What a client should wait before trying again (seconds). */
export const FAULT_RETRY_AFTER_SECONDS: Record<DatabaseFaultCode, number> = {
  DATABASE_UNAVAILABLE: 1,
  DATABASE_TIMEOUT: 1,
  DATABASE_READ_ONLY: 1,
  DISK_FULL: 5,
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** PostgreSQL SQLSTATE, better-sqlite3 code or Node errno code of an error -> fault, or null. */
export function classifyDatabaseError(error: unknown): DatabaseFaultCode | null {
  if (isDatabaseFault(error)) return error.code;
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // PostgreSQL (SQLSTATE, five characters).
    if (code.startsWith('08')) return 'DATABASE_UNAVAILABLE'; // connection exception
    switch (code) {
      case '57P01': // admin_shutdown (also pg_terminate_backend)
      case '57P02': // crash_shutdown
      case '57P03': // cannot_connect_now (starting up, shutting down, in recovery)
      case '53300': // too_many_connections
      case '53200': // out_of_memory
      case '58030': // io_error
        return 'DATABASE_UNAVAILABLE';
      case '53100': // disk_full
        return 'DISK_FULL';
      case '25006': // read_only_sql_transaction: a standby, or a primary being demoted
        return 'DATABASE_READ_ONLY';
      case '57014': // query_canceled: statement_timeout
      case '55P03': // lock_not_available: lock_timeout
      case '25P03': // idle_in_transaction_session_timeout
        return 'DATABASE_TIMEOUT';
    }
    // SQLite (better-sqlite3 extended result codes).
    if (code === 'SQLITE_FULL') return 'DISK_FULL';
    if (code.startsWith('SQLITE_READONLY')) return 'DATABASE_READ_ONLY';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'DATABASE_TIMEOUT';
    if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'DATABASE_UNAVAILABLE';
    // Node (sockets, files).
    if (code === 'ENOSPC' || code === 'EDQUOT') return 'DISK_FULL';
    if (code === 'EROFS') return 'DATABASE_READ_ONLY';
    if (NETWORK_CODES.has(code)) return 'DATABASE_UNAVAILABLE';
  }
  // node-postgres and pg-pool raise these without a code.
  const message = error.message;
  if (/timeout exceeded when trying to connect|connection timeout|Query read timeout/i.test(message)) return 'DATABASE_TIMEOUT';
  if (/Connection terminated|not queryable|Client was closed|connection error/i.test(message)) return 'DATABASE_UNAVAILABLE';
  return null;
}

/** The 503 an error stands for (its cause kept), or null when it is not a database fault. */
export function toDatabaseFault(error: unknown): AppError | null {
  if (isDatabaseFault(error)) return error;
  const code = classifyDatabaseError(error);
  if (!code) return null;
  return new AppError(code, undefined, { retryAfterSeconds: FAULT_RETRY_AFTER_SECONDS[code], cause: error });
}

/** A short, secret-free description of the underlying error for the log (SQLSTATE or code plus message). */
export function describeDatabaseError(error: unknown): string {
  const inner = error instanceof AppError && error.cause !== undefined ? error.cause : error;
  if (!(inner instanceof Error)) return String(inner);
  const code = (inner as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${inner.message}` : inner.message;
}
