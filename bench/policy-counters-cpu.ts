// CPU per sending-policy counter update on SQLite, each alone in its event-loop turn (as paced
// Postfix decisions are): through DatabaseSendingCounters (what the server uses: the store's one
// synchronous better-sqlite3 transaction with prepared statements), through a Kysely transaction
// (BEGIN IMMEDIATE, one upsert per counter key, COMMIT: the path before issue 25's fix, and still
// the one inside a transaction), and the bare statements in one synchronous better-sqlite3
// transaction, to show what each layer costs on the event loop.
// Measured with process.cpuUsage (CPU, not wall time: steady on a shared machine).
// Usage: tsx bench/policy-counters-cpu.ts [UPDATES]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../src/clock.js';
import { DatabaseSendingCounters } from '../src/domain/sending-counters.js';
import { migrateToLatest, openDatabase } from '../src/storage/connect.js';
import type { CounterKey } from '../src/storage/repositories/sending.js';
import { createStore } from '../src/storage/store.js';

const updates = Number(process.argv[2] ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'relaykey-counters-cpu-'));
const file = join(dir, 'counters.db');
const keys: CounterKey[] = [
  { subject: 'credential:a', window: 'hour', windowStart: '2026-12-03T08:00:00.000Z', tenantId: 't' },
  { subject: 'credential:a', window: 'day', windowStart: '2026-12-03T00:00:00.000Z', tenantId: 't' },
];
const turn = () => new Promise((resolve) => setImmediate(resolve));
const perUpdate = (used: NodeJS.CpuUsage) => ((used.user + used.system) / updates).toFixed(1);

const handle = openDatabase(`sqlite:${file}`);
await migrateToLatest(handle);
const counters = new DatabaseSendingCounters(createStore(handle), systemClock);
for (let i = 0; i < 300; i++) await counters.add(keys, { messages: 1, recipients: 1 });
let started = process.cpuUsage();
for (let i = 0; i < updates; i++) {
  await counters.add(keys, { messages: 1, recipients: 1 });
  await turn();
}
const server = process.cpuUsage(started);
const store = createStore(handle);
started = process.cpuUsage();
for (let i = 0; i < updates; i++) {
  const at = new Date().toISOString();
  await store.transaction((repositories) => repositories.sending.add(keys, { messages: 1, recipients: 1 }, at));
  await turn();
}
const kysely = process.cpuUsage(started);
started = process.cpuUsage();
for (let i = 0; i < updates; i++) await turn();
const empty = process.cpuUsage(started);
await handle.close();

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const upsert = db.prepare(`INSERT INTO sending_counters (subject, "window", window_start, tenant_id, messages, recipients, rejected, deferred, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (subject, "window", window_start) DO UPDATE SET
  messages = sending_counters.messages + excluded.messages, recipients = sending_counters.recipients + excluded.recipients,
  rejected = sending_counters.rejected + excluded.rejected, deferred = sending_counters.deferred + excluded.deferred,
  updated_at = excluded.updated_at
RETURNING messages, recipients, rejected, deferred`);
const transaction = db.transaction(() => keys.map((k) => upsert.get(k.subject, k.window, k.windowStart, k.tenantId, 1, 1, 0, 0, new Date().toISOString())));
for (let i = 0; i < 300; i++) transaction.immediate();
started = process.cpuUsage();
for (let i = 0; i < updates; i++) {
  transaction.immediate();
  await turn();
}
const raw = process.cpuUsage(started);
db.close();
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  `${updates} updates of ${keys.length} counters, one per event-loop turn (CPU µs each):\n` +
    `  DatabaseSendingCounters (the server's path):  ${perUpdate(server)}\n` +
    `  a Kysely transaction (before issue 25's fix): ${perUpdate(kysely)}\n` +
    `  one synchronous better-sqlite3 transaction:   ${perUpdate(raw)}\n` +
    `  an empty turn:                                ${perUpdate(empty)}\n`,
);
