// What the sending policy reads: the credentials behind a mail server's identity, and the
// fixed-window counters shared by every node on this database.
import type { Kysely } from 'kysely';
import type { Credential } from '../../domain/types.js';
import type { Database } from '../schema.js';
import { toCredential } from './credentials.js';
import type { PreparedConnection } from './prepared.js';

// One cached statement per key on SQLite: Kysely would build, compile and prepare the upsert at
// every policy decision (the hot path of `npm run bench`'s policy scenario).
const SQLITE_ADD = `INSERT INTO sending_counters (subject, "window", window_start, tenant_id, messages, recipients, rejected, deferred, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (subject, "window", window_start) DO UPDATE SET
  messages = sending_counters.messages + excluded.messages,
  recipients = sending_counters.recipients + excluded.recipients,
  rejected = sending_counters.rejected + excluded.rejected,
  deferred = sending_counters.deferred + excluded.deferred,
  updated_at = excluded.updated_at
RETURNING messages, recipients, rejected, deferred`;

export interface CounterKey {
  subject: string;
  window: 'hour' | 'day';
  windowStart: string;
  tenantId: string;
}

export interface CounterValues {
  messages: number;
  recipients: number;
  rejected: number;
  deferred: number;
}

/** One addition to the counters of some keys (see SendingRepository.add). */
export interface CounterAddition {
  keys: readonly CounterKey[];
  delta: Partial<CounterValues>;
}

/**
 * SQLite: the upserts of an addition on the raw writer connection, synchronously, with the cached
 * statement. The caller holds the transaction (a Kysely one, or the store's synchronous one).
 */
export function addOnSqlite(writer: PreparedConnection, keys: readonly CounterKey[], delta: Partial<CounterValues>, at: string): CounterValues[] {
  const statement = writer.prepare(SQLITE_ADD);
  const out: CounterValues[] = [];
  for (const key of keys) {
    const row = statement.get(
      key.subject,
      key.window,
      key.windowStart,
      key.tenantId,
      delta.messages ?? 0,
      delta.recipients ?? 0,
      delta.rejected ?? 0,
      delta.deferred ?? 0,
      at,
    ) as CounterValues;
    out.push({ messages: Number(row.messages), recipients: Number(row.recipients), rejected: Number(row.rejected), deferred: Number(row.deferred) });
  }
  return out;
}

export class SendingRepository {
  /** `sqliteWriter`: inside a SQLite transaction, the raw connection it holds (see RawSqlite in credentials.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqliteWriter: PreparedConnection | null = null,
  ) {}

  /** The login with this canonical address (any tenant), or null. */
  async loginByAddress(address: string): Promise<{ id: string; tenantId: string; address: string } | null> {
    const row = await this.db.selectFrom('logins').select(['id', 'tenant_id', 'address']).where('address', '=', address).executeTakeFirst();
    return row ? { id: row.id, tenantId: row.tenant_id, address: row.address } : null;
  }

  async aliasesOf(loginId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('login_aliases').select('address').where('login_id', '=', loginId).orderBy('address').execute();
    return rows.map((r) => r.address);
  }

  /** The credentials bound to a login that are not revoked for good (grace periods included). */
  async credentialsOfLogin(tenantId: string, loginId: string): Promise<Credential[]> {
    const rows = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('login_id', '=', loginId).execute();
    return rows.map(toCredential);
  }

  /** The vaulted SMTP account's credential whose username (case-insensitive) is this. */
  async credentialOfAccount(username: string): Promise<Credential | null> {
    const account = await this.db.selectFrom('smtp_accounts').select(['tenant_id', 'credential_id']).where('username', '=', username).executeTakeFirst();
    if (!account) return null;
    const row = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('tenant_id', '=', account.tenant_id)
      .where('id', '=', account.credential_id)
      .executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async tenantDomains(tenantId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('tenant_domains').select('domain').where('tenant_id', '=', tenantId).execute();
    return rows.map((r) => r.domain);
  }

  /** The countries these credentials' sessions were seen in, each with its first sighting (auto-hold). */
  async sessionCountries(tenantId: string, credentialIds: readonly string[]): Promise<{ country: string; firstSeenAt: string }[]> {
    if (credentialIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('credential_sessions')
      .select(['country_iso_code', (eb) => eb.fn.min('created_at').as('first_seen_at')])
      .where('tenant_id', '=', tenantId)
      .where('credential_id', 'in', [...credentialIds])
      .where('country_iso_code', '<>', '')
      .groupBy('country_iso_code')
      .execute();
    return rows.map((r) => ({ country: r.country_iso_code, firstSeenAt: String(r.first_seen_at) }));
  }

  /** Adds to the counters of each key (one row per subject and window, created on first use); returns the new values. */
  async add(keys: readonly CounterKey[], delta: Partial<CounterValues>, at: string): Promise<CounterValues[]> {
    const d = { messages: delta.messages ?? 0, recipients: delta.recipients ?? 0, rejected: delta.rejected ?? 0, deferred: delta.deferred ?? 0 };
    if (this.sqliteWriter) return addOnSqlite(this.sqliteWriter, keys, d, at);
    const out: CounterValues[] = [];
    for (const key of keys) {
      const row = await this.db
        .insertInto('sending_counters')
        .values({ subject: key.subject, window: key.window, window_start: key.windowStart, tenant_id: key.tenantId, ...d, updated_at: at })
        .onConflict((oc) =>
          oc.columns(['subject', 'window', 'window_start']).doUpdateSet((eb) => ({
            messages: eb('sending_counters.messages', '+', d.messages),
            recipients: eb('sending_counters.recipients', '+', d.recipients),
            rejected: eb('sending_counters.rejected', '+', d.rejected),
            deferred: eb('sending_counters.deferred', '+', d.deferred),
            updated_at: at,
          })),
        )
        .returning(['messages', 'recipients', 'rejected', 'deferred'])
        .executeTakeFirstOrThrow();
      out.push({ messages: Number(row.messages), recipients: Number(row.recipients), rejected: Number(row.rejected), deferred: Number(row.deferred) });
    }
    return out;
  }

  async read(keys: readonly CounterKey[]): Promise<CounterValues[]> {
    const out: CounterValues[] = [];
    for (const key of keys) {
      const row = await this.db
        .selectFrom('sending_counters')
        .select(['messages', 'recipients', 'rejected', 'deferred'])
        .where('subject', '=', key.subject)
        .where('window', '=', key.window)
        .where('window_start', '=', key.windowStart)
        .executeTakeFirst();
      out.push({
        messages: Number(row?.messages ?? 0),
        recipients: Number(row?.recipients ?? 0),
        rejected: Number(row?.rejected ?? 0),
        deferred: Number(row?.deferred ?? 0),
      });
    }
    return out;
  }

  /** Drops windows that ended before `before` (ISO); returns how many rows went. */
  async prune(before: string): Promise<number> {
    const result = await this.db.deleteFrom('sending_counters').where('window_start', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }
}
