// Pure parts of the fault handling: which errors are database faults and which code each gets,
// the host list of a multi-host URL, and the configuration that names hosts and standbys.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { classifyDatabaseError, toDatabaseFault } from '../../src/storage/faults.js';
import { splitPostgresHosts } from '../../src/storage/postgres-pool.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('database faults', () => {
  it('names the cause of PostgreSQL, SQLite and socket errors', () => {
    expect(classifyDatabaseError(withCode('57P01', 'terminating connection due to administrator command'))).toBe('DATABASE_UNAVAILABLE');
    expect(classifyDatabaseError(withCode('08006'))).toBe('DATABASE_UNAVAILABLE');
    expect(classifyDatabaseError(withCode('ECONNREFUSED'))).toBe('DATABASE_UNAVAILABLE');
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toBe('DATABASE_UNAVAILABLE');
    expect(classifyDatabaseError(withCode('53100'))).toBe('DISK_FULL');
    expect(classifyDatabaseError(withCode('SQLITE_FULL'))).toBe('DISK_FULL');
    expect(classifyDatabaseError(withCode('25006'))).toBe('DATABASE_READ_ONLY');
    expect(classifyDatabaseError(withCode('SQLITE_READONLY_DBMOVED'))).toBe('DATABASE_READ_ONLY');
    expect(classifyDatabaseError(withCode('57014'))).toBe('DATABASE_TIMEOUT');
    expect(classifyDatabaseError(withCode('55P03'))).toBe('DATABASE_TIMEOUT');
    expect(classifyDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe('DATABASE_TIMEOUT');
    expect(classifyDatabaseError(new Error('Query read timeout'))).toBe('DATABASE_TIMEOUT');
  });

  it('leaves errors of the request alone', () => {
    expect(classifyDatabaseError(withCode('23505', 'duplicate key'))).toBeNull();
    expect(classifyDatabaseError(withCode('SQLITE_CONSTRAINT_UNIQUE'))).toBeNull();
    expect(classifyDatabaseError(new TypeError('x is undefined'))).toBeNull();
    expect(toDatabaseFault('a string')).toBeNull();
  });

  it('answers 503 with Retry-After and keeps the cause', () => {
    const cause = withCode('SQLITE_FULL', 'database or disk is full');
    const fault = toDatabaseFault(cause);
    expect(fault).toMatchObject({ code: 'DISK_FULL', status: 503, retryAfterSeconds: 5 });
    expect(fault?.cause).toBe(cause);
  });
});

describe('several PostgreSQL hosts', () => {
  it('splits a multi-host URL into one URL per host, keeping user, database and parameters', () => {
    expect(splitPostgresHosts('postgres://u:p@a:5432,b:5433/db?x=1&target_session_attrs=read-write')).toEqual([
      'postgres://u:p@a:5432/db?x=1',
      'postgres://u:p@b:5433/db?x=1',
    ]);
    expect(splitPostgresHosts('postgres://u@one:5432/db')).toEqual(['postgres://u@one:5432/db']);
  });

  it('puts RELAYKEY_DATABASE_PASSWORD into a multi-host URL and checks the standby list', () => {
    const env = { RELAYKEY_DATA_DIR: '/tmp/relaykey-unit', RELAYKEY_DATABASE_URL: 'postgres://rk@a:5432,b:5432/db' };
    expect(loadConfig({ ...env, RELAYKEY_DATABASE_PASSWORD: 'p@ss' }).databaseUrl).toBe('postgres://rk:p%40ss@a:5432,b:5432/db');
    expect(loadConfig({ ...env, RELAYKEY_DATABASE_REPLICA_URLS: 'postgres://rk@c:5432/db' }).databaseReplicaUrls).toEqual(['postgres://rk@c:5432/db']);
    expect(() => loadConfig({ ...env, RELAYKEY_DATABASE_REPLICA_URLS: 'postgres://rk@c:5432,d:5432/db' })).toThrow(ConfigError);
    expect(() => loadConfig({ RELAYKEY_DATA_DIR: '/tmp/relaykey-unit', RELAYKEY_DATABASE_REPLICA_URLS: 'postgres://rk@c/db' })).toThrow(/needs a postgres/);
    expect(loadConfig(env)).toMatchObject({ startupWaitSeconds: 60, verifyStaleMaxMs: 600_000, redisTimeoutMs: 50, databasePoolSize: 10 });
  });
});
