// A fingerprint of every table, to prove that a refused request changed nothing.
import { createHash } from 'node:crypto';
import type { TestServer } from './server.js';

const TABLES = ['tenants', 'logins', 'credentials', 'api_tokens', 'admins', 'admin_sessions', 'reauth_tokens', 'audit_events', 'audit_chain_heads'];

export async function databaseFingerprint(server: TestServer, extraTables: string[] = []): Promise<string> {
  const hash = createHash('sha256');
  for (const table of [...TABLES, ...extraTables]) {
    const rows = await server.sql(`SELECT * FROM ${table}`);
    // The last use of an admin session (idle timeout) or of a token is bookkeeping of the caller's
    // own authentication, written before it is authorized: not a change the request made.
    const lines = rows
      .map((row) =>
        JSON.stringify(
          Object.entries(row)
            .filter(([column]) => !(table === 'admin_sessions' && column === 'last_seen_at') && !(table === 'api_tokens' && column === 'last_used_at'))
            .sort(([a], [b]) => a.localeCompare(b)),
        ),
      )
      .sort();
    hash.update(`${table}:${lines.join('\n')}`);
  }
  return hash.digest('hex');
}
