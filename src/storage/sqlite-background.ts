// A second SQLite connection on a worker thread, for the server's background work: WAL
// checkpoints, batched usage writes (last-used times, sessions) and long job reads run there
// instead of on the event loop.
//
// better-sqlite3 is synchronous: every statement, every COMMIT (which appends its pages to the
// WAL) and, with SQLite's default auto-checkpoint, the copy of the WAL into the database file
// and its fsync ran on the event loop while verifications waited. Under a stream of new keys
// (each one a last-used update and a new session) those writes were the largest cost of a cold
// verification after the lookup itself. The server turns auto-checkpoint off on its own writer
// and this worker runs PASSIVE checkpoints (they never block readers or the writer) on a short
// interval, and between them the write batches it is sent, each in one IMMEDIATE transaction.
// Closing the handle stops the worker first; the last connection to close then checkpoints
// and removes the WAL as SQLite always does.
import { startSqliteWorker } from './sqlite-worker.js';

/** One prepared statement and the parameter rows to run it with. */
export interface WriteStatement {
  sql: string;
  rows: unknown[][];
}

export interface WriteResult {
  /** Statement runs (one per parameter row). */
  statements: number;
  /** Rows inserted or changed. */
  changes: number;
}

export interface SqliteBackground {
  /** WAL frames copied into the database file by the worker so far. */
  readonly framesCheckpointed: number;
  /** Rows the worker's writes have changed so far. */
  readonly rowsChanged: number;
  /** False once the worker has stopped or died: callers then read and write on their own connection. */
  readonly writable: boolean;
  /** Runs every statement with every one of its rows in one transaction: all of it or none. */
  write(statements: WriteStatement[]): Promise<WriteResult>;
  /** Runs one read-only statement and resolves with its rows (committed data only). */
  read(sql: string, parameters: readonly unknown[]): Promise<unknown[]>;
  stop(): Promise<void>;
}

export interface SqliteBackgroundOptions {
  file: string;
  checkpointIntervalMs: number;
  /** The worker failed: it could not open the database, or checkpoints kept failing. */
  onError(message: string): void;
}

/** The worker holds one write batch at a time: a few hundred KB. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 };
/** Checkpoints failing in a row (about 5 s at 250 ms) before the worker gives them back to the writer. */
const MAX_CONSECUTIVE_FAILURES = 20;

/**
 * The worker's whole program. Plain CommonJS so that it runs the same from the bundle, from the
 * TypeScript sources under tsx and under the test runner; the driver path comes from this side.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
const statements = new Map();
const statement = (sql) => {
  let found = statements.get(sql);
  if (!found) statements.set(sql, (found = db.prepare(sql)));
  return found;
};
const writeAll = db.transaction((batch) => {
  let runs = 0;
  let changes = 0;
  for (const { sql, rows } of batch) {
    const prepared = statement(sql);
    for (const row of rows) {
      changes += prepared.run(row).changes;
      runs += 1;
    }
  }
  return { statements: runs, changes };
});
let timer = null;
let failures = 0;
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
    if (result && result.checkpointed > 0) parentPort.postMessage({ type: 'checkpointed', frames: result.checkpointed });
  } catch (error) {
    // A busy moment is retried on the next tick; only a run of failures hands checkpoints back.
    if (++failures < workerData.maxFailures) return;
    clearInterval(timer);
    parentPort.postMessage({ type: 'error', message: String((error && error.message) || error) });
  }
};
timer = setInterval(checkpoint, workerData.intervalMs);
// Every request gets one answer: what work() returns, or why it failed.
const answer = (id, work) => {
  try {
    parentPort.postMessage({ id, ...work() });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', id, message: String((error && error.message) || error) });
  }
};
const read = ({ sql, parameters }) => {
  const prepared = statement(sql);
  if (!prepared.readonly) throw new Error('only a read-only statement may be run as a read');
  return { type: 'rows', rows: prepared.all(parameters) };
};
const write = ({ statements }) => ({ type: 'written', ...writeAll.immediate(statements) });
parentPort.on('message', (message) => {
  if (message.type === 'read') return answer(message.id, () => read(message));
  if (message.type === 'write') return answer(message.id, () => write(message));
  if (message.type !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

type WorkerMessage =
  | { type: 'checkpointed'; frames: number }
  | { type: 'error'; message: string }
  | { type: 'written'; id: number; statements: number; changes: number }
  | { type: 'rows'; id: number; rows: unknown[] }
  | { type: 'failed'; id: number; message: string };

export function startSqliteBackground(options: SqliteBackgroundOptions): SqliteBackground {
  const worker = startSqliteWorker({
    name: 'the SQLite background worker',
    source: WORKER_SOURCE,
    workerData: { file: options.file, intervalMs: options.checkpointIntervalMs, maxFailures: MAX_CONSECUTIVE_FAILURES },
    // A small young generation: with V8's default the worker's heap grew with the write batches it
    // received and the server's peak RSS varied by +3 to +30 MB (100k cold verifications at 1M
    // keys: 232-260 MB; with this limit 225-236 MB, against 226-231 MB without the worker writing).
    resourceLimits: WORKER_HEAP,
    onFailure: options.onError,
  });
  let frames = 0;
  let rowsChanged = 0;
  worker.thread.on('message', (message: WorkerMessage) => {
    if (message.type === 'checkpointed') frames += message.frames;
    else if (message.type === 'error') options.onError(message.message);
    else if (message.type === 'written') {
      rowsChanged += message.changes;
      worker.resolve(message.id, { statements: message.statements, changes: message.changes });
    } else if (message.type === 'rows') worker.resolve(message.id, message.rows);
    else if (message.type === 'failed') worker.reject(message.id, new Error(`background statement failed: ${message.message}`));
  });
  return {
    get framesCheckpointed() {
      return frames;
    },
    get rowsChanged() {
      return rowsChanged;
    },
    get writable() {
      return worker.accepting;
    },
    write(statements) {
      return worker.request<WriteResult>({ type: 'write', statements });
    },
    read(sql, parameters) {
      return worker.request<unknown[]>({ type: 'read', sql, parameters });
    },
    stop: () => worker.stop(),
  };
}
