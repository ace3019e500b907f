// The name every node on one database shares: it prefixes Redis keys and channels and names the
// PostgreSQL notification channel, so that test schemas (or deployments) on one server never mix.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../storage/connect.js';

export async function clusterNamespace(handle: DatabaseHandle, databaseUrl: string): Promise<string> {
  let identity: string;
  if (handle.dialect === 'postgres') {
    const result = await sql<{ db: string; schema: string }>`select current_database() as db, current_schema() as schema`.execute(handle.db);
    const row = result.rows[0];
    identity = `pg:${row?.db}:${row?.schema}`;
  } else {
    identity = `sqlite:${databaseUrl.slice('sqlite:'.length)}`;
  }
  return `rk${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}
