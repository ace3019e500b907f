// Verify-only credentials: stored as keyed hashes, looked up by hash on the hot path.
import { CompiledQuery, type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { Credential, Page, PageRequest, Surface } from '../../domain/types.js';
import type { CredentialsTable, Database } from '../schema.js';
import { parseJson } from './json.js';
import type { WriteStatement } from '../sqlite-background.js';
import type { SqliteLookups } from '../sqlite-lookups.js';
import type { PreparedConnection } from './prepared.js';
import type { ReplicaReads } from '../replica-reads.js';
import { turnBatches } from '../turn-batches.js';
import { yieldToEventLoop } from '../../event-loop.js';

/** Moves a credential's last-used time on, never back (parameters: at, id, at). */
const SQLITE_LAST_USED_UPDATE = 'UPDATE credentials SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)';

/** `recordLastUsed` as one statement for a SQLite connection of its own (the background worker). */
export function lastUsedWrite(lastUsed: Map<string, string>): WriteStatement {
  const rows: unknown[][] = [];
  for (const [id, at] of lastUsed) rows.push([at, id, at]);
  return { sql: SQLITE_LAST_USED_UPDATE, rows };
}

export function toCredential(row: Selectable<CredentialsTable>): Credential {
  return {
    numId: Number(row.num_id),
    tenantNum: Number(row.tenant_num),
    id: row.id,
    tenantId: row.tenant_id,
    loginId: row.login_id,
    surface: row.surface,
    kind: row.kind,
    name: row.name,
    scopes: parseJson(row.scopes, []),
    role: row.role,
    publicKey: row.public_key,
    keyHash: row.key_hash,
    keyHint: row.key_hint,
    held: row.held === 1,
    status: row.status,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    graceUntil: row.grace_until,
    expiresAt: row.expires_at,
    allowedNetworks: parseJson(row.allowed_networks, null),
    allowedSenders: parseJson(row.allowed_senders, null),
    sendingLimits: parseJson(row.sending_limits, null),
    metadata: parseJson(row.metadata, {}),
    replacesId: row.replaces_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  };
}

export type NewCredential = Omit<Credential, 'numId' | 'tenantNum' | 'allowedSenders' | 'sendingLimits'> &
  Partial<Pick<Credential, 'allowedSenders' | 'sendingLimits'>>;
export type CredentialChanges = Partial<
  Pick<
    Credential,
    | 'name'
    | 'scopes'
    | 'held'
    | 'status'
    | 'revokedAt'
    | 'revokedReason'
    | 'graceUntil'
    | 'expiresAt'
    | 'allowedNetworks'
    | 'allowedSenders'
    | 'sendingLimits'
    | 'metadata'
    | 'updatedAt'
  >
>;

export interface CredentialFilter {
  tenantId: string;
  loginId?: string;
  surface?: Surface;
  /** active: not revoked (held and expired included); held and expired: not revoked and in that state at `now`. */
  status?: CredentialListStatus;
  now?: string;
}

export type CredentialListStatus = 'active' | 'revoked' | 'held' | 'expired';

/** SQLite only: the raw connections (see DatabaseHandle in connect.ts), with their prepared statements. */
export interface RawSqlite {
  /** The connection Kysely writes through; set only inside a transaction, which holds it. */
  writer: PreparedConnection | null;
  /**
   * A read-only connection that sees committed rows only, inside this turn's read transaction
   * (call it for every read); set only outside transactions.
   */
  reader: (() => PreparedConnection | null) | null;
  /** The server's lookup worker while it answers (sqlite-lookups.ts); set only outside transactions. */
  lookups: (() => SqliteLookups | null) | null;
}

// Every column but the generated num_id, in one order for the bulk insert paths.
const INSERT_COLUMNS = [
  'id',
  'tenant_id',
  'tenant_num',
  'login_id',
  'surface',
  'kind',
  'name',
  'scopes',
  'role',
  'public_key',
  'key_hash',
  'key_hint',
  'held',
  'status',
  'revoked_at',
  'revoked_reason',
  'grace_until',
  'expires_at',
  'allowed_networks',
  'allowed_senders',
  'sending_limits',
  'metadata',
  'replaces_id',
  'created_at',
  'updated_at',
  'last_used_at',
] as const;

type InsertRow = Insertable<CredentialsTable> & Record<(typeof INSERT_COLUMNS)[number], string | number | null>;

function toRow(credential: NewCredential, tenantNum: number): InsertRow {
  return {
    id: credential.id,
    tenant_id: credential.tenantId,
    tenant_num: tenantNum,
    login_id: credential.loginId,
    surface: credential.surface,
    kind: credential.kind,
    name: credential.name,
    scopes: JSON.stringify(credential.scopes),
    role: credential.role,
    public_key: credential.publicKey,
    key_hash: credential.keyHash,
    key_hint: credential.keyHint,
    held: credential.held ? 1 : 0,
    status: credential.status,
    revoked_at: credential.revokedAt,
    revoked_reason: credential.revokedReason,
    grace_until: credential.graceUntil,
    expires_at: credential.expiresAt,
    allowed_networks: credential.allowedNetworks ? JSON.stringify(credential.allowedNetworks) : null,
    allowed_senders: credential.allowedSenders ? JSON.stringify(credential.allowedSenders) : null,
    sending_limits: credential.sendingLimits ? JSON.stringify(credential.sendingLimits) : null,
    metadata: JSON.stringify(credential.metadata),
    replaces_id: credential.replacesId,
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
    last_used_at: credential.lastUsedAt,
  };
}

/** Rows per multi-row INSERT on SQLite: 26 columns x 500 stays far below its 32,766 variables. */
const SQLITE_ROWS_PER_STATEMENT = 500;
/** Rows per unnest() INSERT on PostgreSQL (one array parameter per column). */
const POSTGRES_ROWS_PER_STATEMENT = 5_000;
/** last_used_at updates run between two yields to the event loop (SQLite). */
const LAST_USED_SLICE = 500;
/** Page cache of a connection that bulk inserts (KiB). */
const BULK_CACHE_KIB = 256 * 1024;
const POSTGRES_COLUMN_TYPES: Record<(typeof INSERT_COLUMNS)[number], string> = Object.fromEntries(
  INSERT_COLUMNS.map((column) => [column, column === 'held' || column === 'tenant_num' ? 'integer' : 'text']),
) as Record<(typeof INSERT_COLUMNS)[number], string>;

/**
 * Values that repeat across many credentials (tenant ids, enum columns, scope lists, empty
 * metadata, import timestamps), shared by every credential the hot path loads. The verify
 * cache holds up to hundreds of thousands of credentials; sharing these cuts each entry by
 * about a third. Parsed JSON values are frozen because they are shared. Bounded: a table
 * that grows past its limit starts again, so high-cardinality values cost nothing lasting.
 */
export class Interner {
  private strings = new Map<string, string>();
  private parsed = new Map<string, unknown>();
  constructor(private readonly limit = 4096) {}

  string<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    if (this.strings.size >= this.limit) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }

  json<T>(text: string | null, fallback: T): T {
    if (text === null || text === '') return fallback;
    const known = this.parsed.get(text);
    if (known !== undefined) return known as T;
    if (this.parsed.size >= this.limit) this.parsed.clear();
    const value = deepFreeze(JSON.parse(text));
    this.parsed.set(text, value);
    return value as T;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** What verification reads of a credential: its checks and its answer, nothing more. */
export type VerificationCredential = Pick<
  Credential,
  'id' | 'tenantId' | 'surface' | 'scopes' | 'publicKey' | 'held' | 'status' | 'graceUntil' | 'expiresAt' | 'allowedNetworks' | 'metadata'
>;

export interface VerificationCredentialWithLogin {
  credential: VerificationCredential;
  loginAddress: string | null;
}

/**
 * Only the columns verification needs: on a cold cache this read is most of a request, and
 * turning all 24 columns into JavaScript values cost a fifth of it (25 vs 20 µs per lookup in
 * a tight loop at 1M keys).
 */
const FOR_VERIFICATION = `c.id, c.tenant_id, c.surface, c.scopes, c.public_key, c.held, c.status, c.grace_until, c.expires_at,
  c.allowed_networks, c.metadata, logins.address AS login_address
  FROM credentials c LEFT JOIN logins ON logins.id = c.login_id`;
const FIND_FOR_VERIFICATION_SQL = `SELECT ${FOR_VERIFICATION} WHERE c.key_hash = ?`;
const FIND_FOR_VERIFICATION_POSTGRES_SQL = FIND_FOR_VERIFICATION_SQL.replace('?', '$1');
/** PostgreSQL: a turn's lookups in one query (see turn-batches.ts). */
const FIND_MANY_FOR_VERIFICATION_POSTGRES_SQL = `SELECT c.key_hash, ${FOR_VERIFICATION} WHERE c.key_hash = ANY($1::text[])`;

type FoundForVerification = Pick<
  Selectable<CredentialsTable>,
  'id' | 'tenant_id' | 'surface' | 'scopes' | 'public_key' | 'held' | 'status' | 'grace_until' | 'expires_at' | 'allowed_networks' | 'metadata'
> & { login_address: string | null };

/** A row of FIND_FOR_VERIFICATION_SQL, with repeated values shared (see Interner). */
function toVerificationCredential(row: FoundForVerification, intern: Interner): VerificationCredentialWithLogin {
  return {
    credential: {
      id: row.id,
      tenantId: intern.string(row.tenant_id),
      surface: intern.string(row.surface),
      scopes: intern.json(row.scopes, []),
      publicKey: row.public_key,
      held: row.held === 1,
      status: intern.string(row.status),
      graceUntil: row.grace_until,
      expiresAt: row.expires_at,
      allowedNetworks: intern.json(row.allowed_networks, null),
      metadata: intern.json(row.metadata, {}),
    },
    loginAddress: intern.string(row.login_address),
  };
}

function sqliteInsertText(rows: number): string {
  const tuple = `(${INSERT_COLUMNS.map(() => '?').join(',')})`;
  return `INSERT INTO credentials (${INSERT_COLUMNS.join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}`;
}

/** One row or undefined per key hash, in the hashes' order. */
function inHashOrder(keyHashes: string[], rows: (FoundForVerification & { key_hash: string })[]): (FoundForVerification | undefined)[] {
  const byHash = new Map(rows.map((row) => [row.key_hash, row]));
  return keyHashes.map((keyHash) => byHash.get(keyHash));
}

export class CredentialRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
    private readonly raw: RawSqlite = { writer: null, reader: null, lookups: null },
    /** Outside transactions on PostgreSQL: the lookups of one turn of the event loop go as one query. */
    private readonly batchLookups = false,
    /** Outside transactions on PostgreSQL: hot standbys within the staleness bound (replica-reads.ts). */
    private readonly replica: (() => ReplicaReads | null) | null = null,
    /** The store's: values repeated across the credentials the verify cache holds are shared. */
    private readonly interner: Interner = new Interner(),
  ) {}

  private postgresLookups: ((keyHash: string) => Promise<FoundForVerification | undefined>) | null = null;
  private replicaLookups: ((keyHash: string) => Promise<FoundForVerification | undefined>) | null = null;

  /** A read on a fresh standby when there is one, else on the primary. */
  private async readRows<Row>(query: { compile(): CompiledQuery<Row>; execute(): Promise<Row[]> }): Promise<Row[]> {
    const replica = this.replica?.() ?? null;
    if (replica) {
      const { sql, parameters } = query.compile();
      const rows = await replica.query<Row>(sql, parameters);
      if (rows) return rows;
    }
    return query.execute();
  }

  async insert(credential: NewCredential): Promise<Credential> {
    const tenantNum = await this.reserveTenantNumbers(credential.tenantId, 1);
    const row = await this.db.insertInto('credentials').values(toRow(credential, tenantNum)).returningAll().executeTakeFirstOrThrow();
    return toCredential(row);
  }

  /**
   * Hands out `count` numbers of the tenant's own sequence and returns the first. The counter
   * row stays locked until the transaction ends (PostgreSQL), so concurrent inserts in one
   * tenant take turns and never share a number.
   */
  private async reserveTenantNumbers(tenantId: string, count: number): Promise<number> {
    const row = await this.db
      .updateTable('tenants')
      .set((eb) => ({ credential_count: eb('credential_count', '+', count) }))
      .where('id', '=', tenantId)
      .returning('credential_count')
      .executeTakeFirst();
    if (!row) throw new Error(`tenant ${tenantId} does not exist`);
    return Number(row.credential_count) - count + 1;
  }

  /** Applies changes; returns the updated row, or null when `onlyIfActive` and it was already revoked. */
  async update(id: string, changes: CredentialChanges, options: { onlyIfActive?: boolean; onlyIfNotHeld?: boolean } = {}): Promise<Credential | null> {
    const set: Updateable<CredentialsTable> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.scopes !== undefined) set.scopes = JSON.stringify(changes.scopes);
    if (changes.held !== undefined) set.held = changes.held ? 1 : 0;
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.revokedAt !== undefined) set.revoked_at = changes.revokedAt;
    if (changes.revokedReason !== undefined) set.revoked_reason = changes.revokedReason;
    if (changes.graceUntil !== undefined) set.grace_until = changes.graceUntil;
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
    if (changes.allowedNetworks !== undefined) set.allowed_networks = changes.allowedNetworks ? JSON.stringify(changes.allowedNetworks) : null;
    if (changes.allowedSenders !== undefined) set.allowed_senders = changes.allowedSenders ? JSON.stringify(changes.allowedSenders) : null;
    if (changes.sendingLimits !== undefined) set.sending_limits = changes.sendingLimits ? JSON.stringify(changes.sendingLimits) : null;
    if (changes.metadata !== undefined) set.metadata = JSON.stringify(changes.metadata);
    if (changes.updatedAt !== undefined) set.updated_at = changes.updatedAt;
    let query = this.db.updateTable('credentials').set(set).where('id', '=', id);
    if (options.onlyIfActive) query = query.where('status', '=', 'active');
    // Compare-and-set: of several nodes holding at once, exactly one changes the row (and audits it).
    if (options.onlyIfNotHeld) query = query.where('held', '=', 0);
    const row = await query.returningAll().executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  /** The credentials issued to replace this one (its successors in a rotation chain). */
  async findSuccessors(tenantId: string, id: string): Promise<Credential[]> {
    const rows = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('replaces_id', '=', id).execute();
    return rows.map(toCredential);
  }

  async findById(tenantId: string, id: string): Promise<Credential | null> {
    const row = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async findByNumId(tenantId: string, numId: number): Promise<Credential | null> {
    const row = await this.db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('num_id', '=', numId).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  /**
   * Inserts many credentials in as few statements as the database allows (bulk import).
   * One path per dialect: unnest() on PostgreSQL, a prepared multi-row INSERT on the
   * transaction's own connection on SQLite (so call it inside a transaction).
   */
  async insertMany(credentials: readonly NewCredential[]): Promise<void> {
    if (credentials.length === 0) return;
    const counts = new Map<string, number>();
    for (const credential of credentials) counts.set(credential.tenantId, (counts.get(credential.tenantId) ?? 0) + 1);
    const next = new Map<string, number>();
    for (const [tenantId, count] of counts) next.set(tenantId, await this.reserveTenantNumbers(tenantId, count));
    const rows = credentials.map((credential) => {
      const tenantNum = next.get(credential.tenantId) as number;
      next.set(credential.tenantId, tenantNum + 1);
      return toRow(credential, tenantNum);
    });
    if (this.dialect === 'postgres') {
      for (let start = 0; start < rows.length; start += POSTGRES_ROWS_PER_STATEMENT) {
        const chunk = rows.slice(start, start + POSTGRES_ROWS_PER_STATEMENT);
        // unnest() of one array per column: one short statement however many rows.
        const arrays = INSERT_COLUMNS.map((column) => sql`${chunk.map((row) => row[column])}::${sql.raw(POSTGRES_COLUMN_TYPES[column])}[]`);
        await sql`INSERT INTO credentials (${sql.join(INSERT_COLUMNS.map((column) => sql.ref(column)))}) SELECT * FROM unnest(${sql.join(arrays)})`.execute(
          this.db,
        );
      }
      return;
    }
    const writer = this.transactionWriter('insertMany');
    // Bulk inserts land at random places in the key_hash and id indexes; with SQLite's default
    // 2 MB page cache most of them miss and the import slows as the table grows. A connection
    // that bulk inserts (the importing CLI process) gets a larger cache, filled only as used.
    writer.pragmaOnce(`cache_size = -${BULK_CACHE_KIB}`);
    for (let start = 0; start < rows.length; start += SQLITE_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + SQLITE_ROWS_PER_STATEMENT);
      const values: Array<string | number | null> = [];
      for (const row of chunk) for (const column of INSERT_COLUMNS) values.push(row[column]);
      writer.prepare(sqliteInsertText(chunk.length)).run(values);
    }
  }

  /**
   * SQLite: the connection the current transaction holds, on which the bulk write paths run
   * their prepared statements. Outside a transaction there is none (Kysely may hold the one
   * connection in a transaction of its own at any await), so those paths must be called inside one.
   */
  private transactionWriter(method: string): PreparedConnection {
    if (!this.raw.writer) throw new Error(`CredentialRepository.${method} runs inside a transaction on SQLite`);
    return this.raw.writer;
  }

  /** `fresh`: the key changed moments ago; never read it from a standby (see Verifier). */
  async findForVerification(keyHash: string, options?: { fresh?: boolean }): Promise<VerificationCredentialWithLogin | null> {
    const found = await this.findRowForVerification(keyHash, options?.fresh === true);
    return found ? toVerificationCredential(found, this.interner) : null;
  }

  private async findRowForVerification(keyHash: string, fresh: boolean): Promise<FoundForVerification | undefined> {
    // In the server on SQLite: the lookup worker, off the event loop.
    const lookups = this.raw.lookups?.() ?? null;
    if (lookups) {
      try {
        return (await lookups.get(FIND_FOR_VERIFICATION_SQL, keyHash)) as FoundForVerification | undefined;
      } catch {
        // The worker died or the batch failed: the reader answers, and an error that is not
        // the worker's (a broken statement, a broken file) comes from it again.
      }
    }
    // Elsewhere on SQLite: one cached prepared statement on the committed-only reader (in the
    // turn's read transaction, see turn-snapshot.ts) instead of compiling and preparing a Kysely
    // query per request.
    const reader = this.raw.reader?.() ?? null;
    if (reader) return reader.prepare(FIND_FOR_VERIFICATION_SQL).get(keyHash) as FoundForVerification | undefined;
    if (this.dialect === 'postgres' && this.batchLookups) {
      if (!fresh && this.replica?.()) {
        this.replicaLookups ??= turnBatches((keyHashes) => this.findManyOnReplica(keyHashes));
        return this.replicaLookups(keyHash);
      }
      this.postgresLookups ??= turnBatches((keyHashes) => this.findManyOnPostgres(keyHashes));
      return this.postgresLookups(keyHash);
    }
    // In a transaction, and on SQLite without a reader: the same SQL, compiled once rather than
    // built and compiled by Kysely on every cache miss.
    const text = this.dialect === 'postgres' ? FIND_FOR_VERIFICATION_POSTGRES_SQL : FIND_FOR_VERIFICATION_SQL;
    return (await this.db.executeQuery<FoundForVerification>(CompiledQuery.raw(text, [keyHash]))).rows[0];
  }

  /** One query for many key hashes: one row or undefined per hash, in their order. */
  private async findManyOnPostgres(keyHashes: string[]): Promise<(FoundForVerification | undefined)[]> {
    const { rows } = await this.db.executeQuery<FoundForVerification & { key_hash: string }>(
      CompiledQuery.raw(FIND_MANY_FOR_VERIFICATION_POSTGRES_SQL, [keyHashes]),
    );
    return inHashOrder(keyHashes, rows);
  }

  /** The same on a fresh standby; on the primary when none is fresh or it fails. */
  private async findManyOnReplica(keyHashes: string[]): Promise<(FoundForVerification | undefined)[]> {
    const rows = await this.replica?.()?.query<FoundForVerification & { key_hash: string }>(FIND_MANY_FOR_VERIFICATION_POSTGRES_SQL, [keyHashes]);
    return rows ? inHashOrder(keyHashes, rows) : this.findManyOnPostgres(keyHashes);
  }

  async list(filter: CredentialFilter, request: PageRequest): Promise<Page<Credential>> {
    let base = this.db.selectFrom('credentials').where('tenant_id', '=', filter.tenantId);
    if (filter.loginId) base = base.where('login_id', '=', filter.loginId);
    if (filter.surface) base = base.where('surface', '=', filter.surface);
    if (filter.status === 'active' || filter.status === 'revoked') base = base.where('status', '=', filter.status);
    const at = filter.now ?? new Date().toISOString();
    // The same order of precedence as the presented status: expired wins over held.
    if (filter.status === 'expired') base = base.where('status', '=', 'active').where('expires_at', '<=', at);
    if (filter.status === 'held')
      base = base
        .where('status', '=', 'active')
        .where('held', '=', 1)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]));
    const [countRow] = await this.readRows(base.select((eb) => eb.fn.countAll<number>().as('count')));
    if (!countRow) throw new Error('count returned no row');
    const rows = await this.readRows(
      base
        .selectAll()
        .orderBy('num_id', 'asc')
        .limit(request.perPage)
        .offset((request.page - 1) * request.perPage),
    );
    return { items: rows.map(toCredential), total: Number(countRow.count), page: request.page, perPage: request.perPage };
  }

  /** Moves last-used times on, never back. Inside a transaction (see transactionWriter). */
  async recordLastUsed(lastUsed: Map<string, string>): Promise<void> {
    if (this.dialect === 'postgres') {
      const entries = [...lastUsed];
      for (let start = 0; start < entries.length; start += POSTGRES_ROWS_PER_STATEMENT) {
        const chunk = entries.slice(start, start + POSTGRES_ROWS_PER_STATEMENT);
        await sql`UPDATE credentials SET last_used_at = v.at FROM unnest(${chunk.map(([id]) => id)}::text[], ${chunk.map(([, at]) => at)}::text[]) AS v(id, at)
          WHERE credentials.id = v.id AND (credentials.last_used_at IS NULL OR credentials.last_used_at < v.at)`.execute(this.db);
      }
      return;
    }
    // One prepared UPDATE run per id, no per-row query compile.
    const update = this.transactionWriter('recordLastUsed').prepare(SQLITE_LAST_USED_UPDATE);
    // SQLite runs synchronously on the event loop: a flush after heavy traffic may hold tens
    // of thousands of ids, so yield between slices and let verifications (which read through
    // the separate reader connection) go on meanwhile.
    let inSlice = 0;
    for (const [id, at] of lastUsed) {
      update.run(at, id, at);
      if (++inSlice === LAST_USED_SLICE) {
        inSlice = 0;
        await yieldToEventLoop();
      }
    }
  }
}
