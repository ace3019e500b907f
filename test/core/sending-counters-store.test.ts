// The store's sending-counter additions (issue 25, performance), on both dialects: on SQLite
// one synchronous better-sqlite3 transaction, on PostgreSQL a Kysely one. All additions of a
// call are atomic, each gets its values right after its own change, and an addition made while
// another transaction holds the SQLite writer is not drawn into that transaction (a rollback
// there does not take it along).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, type DialectName, migrateToLatest, openDatabase } from '../../src/storage/connect.js';
import type { CounterKey } from '../../src/storage/repositories/sending.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { createPostgresSchema, DIALECTS } from '../helpers/server.js';

const hour: CounterKey = { subject: 'credential:a', window: 'hour', windowStart: '2026-12-03T08:00:00.000Z', tenantId: 't1' };
const day: CounterKey = { subject: 'credential:a', window: 'day', windowStart: '2026-12-03T00:00:00.000Z', tenantId: 't1' };
const AT = '2026-12-03T08:10:00.000Z';

describe.each(DIALECTS)('sending counters through the store on %s', (dialect: DialectName) => {
  let handle: DatabaseHandle;
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    if (dialect === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'relaykey-sending-counters-'));
      handle = openDatabase(`sqlite:${join(dir, 'test.db')}`);
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const schema = await createPostgresSchema();
      handle = openDatabase(schema.url, { poolSize: 2 });
      cleanup = schema.drop;
    }
    await migrateToLatest(handle);
    store = createStore(handle);
  });

  afterEach(async () => {
    await handle.close();
    await cleanup();
  });

  it('gives each addition its own values, in order, and leaves the sums', async () => {
    const values = await store.addSendingCounters(
      [
        { keys: [hour, day], delta: { messages: 1, recipients: 3 } },
        { keys: [hour, day], delta: { messages: 1, recipients: 2, rejected: 1 } },
        { keys: [hour], delta: { messages: -1, recipients: -2, deferred: 1 } },
      ],
      AT,
    );
    expect(values).toEqual([
      [
        { messages: 1, recipients: 3, rejected: 0, deferred: 0 },
        { messages: 1, recipients: 3, rejected: 0, deferred: 0 },
      ],
      [
        { messages: 2, recipients: 5, rejected: 1, deferred: 0 },
        { messages: 2, recipients: 5, rejected: 1, deferred: 0 },
      ],
      [{ messages: 1, recipients: 3, rejected: 1, deferred: 1 }],
    ]);
    expect(await store.sending.read([hour, day])).toEqual([
      { messages: 1, recipients: 3, rejected: 1, deferred: 1 },
      { messages: 2, recipients: 5, rejected: 1, deferred: 0 },
    ]);
  });

  it('is atomic: an addition that fails part-way leaves no counter changed', async () => {
    await store.addSendingCounters([{ keys: [hour], delta: { messages: 1 } }], AT);
    // The second key breaks NOT NULL (tenant_id) after the first key's upsert has run.
    const broken = { ...day, tenantId: null as unknown as string };
    await expect(
      store.addSendingCounters(
        [
          { keys: [hour], delta: { messages: 5 } },
          { keys: [broken], delta: { messages: 1 } },
        ],
        AT,
      ),
    ).rejects.toThrow();
    expect(await store.sending.read([hour, day])).toEqual([
      { messages: 1, recipients: 0, rejected: 0, deferred: 0 },
      { messages: 0, recipients: 0, rejected: 0, deferred: 0 },
    ]);
    // The writer is usable again.
    expect(await store.addSendingCounters([{ keys: [hour], delta: { messages: 1 } }], AT)).toEqual([
      [{ messages: 2, recipients: 0, rejected: 0, deferred: 0 }],
    ]);
  });

  it('does not join a transaction that holds the writer: its rollback leaves the addition', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const outer = store.transaction(async (repositories) => {
      await repositories.sending.add([hour], { messages: 10 }, AT);
      inside();
      await held;
      throw new Error('rolled back on purpose');
    });
    await entered;
    const addition = store.addSendingCounters([{ keys: [hour], delta: { messages: 1 } }], AT);
    release();
    await expect(outer).rejects.toThrow('rolled back on purpose');
    expect(await addition).toEqual([[{ messages: 1, recipients: 0, rejected: 0, deferred: 0 }]]);
    expect(await store.sending.read([hour])).toEqual([{ messages: 1, recipients: 0, rejected: 0, deferred: 0 }]);
  });
});
