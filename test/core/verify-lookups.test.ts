// The verify lookup of the credentials repository (a verify cache miss), on both dialects: the
// lookups of one turn of the event loop go out as one batch (SQLite: one message to the lookup
// worker; PostgreSQL: one query), each gets its own row back, and inside a transaction a lookup
// is not batched and sees the transaction's own writes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DatabaseHandle, type DialectName, migrateToLatest, openDatabase } from '../../src/storage/connect.js';
import type { Database } from '../../src/storage/schema.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { createPostgresSchema, DIALECTS } from '../helpers/server.js';

async function insertCredential(db: Kysely<Database>, id: string, keyHash: string, scopes: string[]): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('credentials')
    .values({
      id,
      tenant_id: 't1',
      login_id: null,
      surface: 'native',
      kind: 'API',
      name: id,
      scopes: JSON.stringify(scopes),
      role: null,
      public_key: null,
      key_hash: keyHash,
      key_hint: 'rk_…',
      held: 0,
      status: 'active',
      revoked_at: null,
      revoked_reason: null,
      grace_until: null,
      expires_at: null,
      allowed_networks: null,
      metadata: '{}',
      replaces_id: null,
      created_at: now,
      updated_at: now,
      last_used_at: null,
    })
    .execute();
}

describe.each(DIALECTS)('the verify lookup on %s', (dialect: DialectName) => {
  let handle: DatabaseHandle;
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    if (dialect === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'relaykey-verify-lookups-'));
      handle = openDatabase(`sqlite:${join(dir, 'test.db')}`);
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const schema = await createPostgresSchema();
      handle = openDatabase(schema.url, { poolSize: 2 });
      cleanup = schema.drop;
    }
    await migrateToLatest(handle);
    const now = new Date().toISOString();
    await handle.db
      .insertInto('tenants')
      .values({
        id: 't1',
        name: 'T',
        domain: 't.test',
        webmail_url: null,
        connection_info: '{}',
        mail_backends: null,
        settings: '{}',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await insertCredential(handle.db, 'c1', 'hash-1', ['smtp']);
    await insertCredential(handle.db, 'c2', 'hash-2', ['imap', 'pop3']);
    store = createStore(handle);
  });

  afterEach(async () => {
    await handle.close();
    await cleanup();
  });

  /** Batches sent so far: lookup worker messages on SQLite, batch queries on PostgreSQL. */
  const batchCounter = () => {
    if (dialect === 'sqlite') {
      const lookups = handle.startSqliteLookups?.(() => {}) ?? null;
      if (!lookups) throw new Error('a file database starts a lookup worker');
      return () => lookups.batches;
    }
    const execute = vi.spyOn(handle.db, 'executeQuery');
    return () => execute.mock.calls.filter(([query]) => 'sql' in query && query.sql.includes('ANY(')).length;
  };

  it('sends the lookups of one turn as one batch and answers each with its own credential', async () => {
    const batches = batchCounter();
    const keyHashes = ['hash-2', 'missing', 'hash-1', 'hash-2'];
    const found = await Promise.all(keyHashes.map((keyHash) => store.credentials.findForVerification(keyHash)));
    expect(found.map((f) => f?.credential.id ?? null)).toEqual(['c2', null, 'c1', 'c2']);
    expect(found[0]?.credential).toMatchObject({ tenantId: 't1', scopes: ['imap', 'pop3'], status: 'active', held: false });
    expect(batches()).toBe(1);
    // A later turn: another batch, and it sees what was committed in between.
    await insertCredential(handle.db, 'c3', 'hash-3', ['smtp']);
    expect((await store.credentials.findForVerification('hash-3'))?.credential.id).toBe('c3');
    expect(batches()).toBe(2);
  });

  it("inside a transaction looks up on the transaction's connection, seeing its own writes, unbatched", async () => {
    const batches = batchCounter();
    const inside = await store.transaction(async (trx) => {
      const now = new Date().toISOString();
      await trx.credentials.insert({
        id: 'c4',
        tenantId: 't1',
        loginId: null,
        surface: 'native',
        kind: 'API',
        name: 'c4',
        scopes: ['smtp'],
        role: null,
        publicKey: null,
        keyHash: 'hash-4',
        keyHint: 'rk_…',
        held: false,
        status: 'active',
        revokedAt: null,
        revokedReason: null,
        graceUntil: null,
        expiresAt: null,
        allowedNetworks: null,
        metadata: {},
        replacesId: null,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
      });
      return trx.credentials.findForVerification('hash-4');
    });
    expect(inside?.credential.id).toBe('c4');
    expect(batches()).toBe(0);
  });

  it.runIf(dialect === 'sqlite')('reads on the event loop once the lookup worker has stopped', async () => {
    const lookups = handle.startSqliteLookups?.(() => {}) ?? null;
    expect((await store.credentials.findForVerification('hash-1'))?.credential.id).toBe('c1');
    expect(lookups?.batches).toBe(1);
    await lookups?.stop();
    expect(handle.sqliteLookups?.()).toBeNull();
    expect((await store.credentials.findForVerification('hash-1'))?.credential.id).toBe('c1');
    expect(lookups?.batches).toBe(1);
  });
});
