// The verify lookup (one row by key hash) on a worker thread with its own read-only connection,
// so that a cache miss costs the event loop a share of one message instead of the B-tree search.
//
// On a 1M-key file a cold lookup is the largest single cost of a cold verification on the event
// loop: two or three B-tree descents, with a page read from the OS for most leaves. Here the
// lookups asked for during one turn of the event loop go to the worker as one message in
// setImmediate (right after the poll phase that parsed their requests); the worker runs them in
// one read transaction and answers with one message, while the event loop goes on parsing and
// answering other requests. Verifications that hit the verify cache never come here.
//
// What a lookup sees: rows committed before its batch was sent. This process's writes commit
// synchronously on its own writer connection, so a lookup asked for after a commit (a rotation,
// a revocation) is sent after it and sees it; another process's writes are seen by the next
// batch the worker begins. The verifier drops a load that an invalidation overtook
// (verification.ts), as it does for the PostgreSQL lookup, which is asynchronous too.
import { startSqliteWorker } from './sqlite-worker.js';
import { turnBatches } from './turn-batches.js';

export interface SqliteLookups {
  /** False once the worker has stopped or died: callers then read on their own connection. */
  readonly alive: boolean;
  /** Batches sent to the worker so far (each one message and one read transaction). */
  readonly batches: number;
  /**
   * The first row of a read-only statement with one parameter, or undefined; rejects if the
   * statement or the worker fails.
   */
  get(sql: string, parameter: string): Promise<unknown>;
  stop(): Promise<void>;
}

export interface SqliteLookupsOptions {
  file: string;
  /** The worker connection's page cache (KiB). */
  cacheKib: number;
  /** The worker failed or stopped unasked. */
  onError(message: string): void;
}

/** The worker holds one batch of keys and rows at a time: a few tens of KB. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

/** The worker's whole program (see sqlite-worker.ts). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -' + workerData.cacheKib);
const statements = new Map();
const statement = (sql) => {
  let found = statements.get(sql);
  if (!found) {
    found = db.prepare(sql);
    if (!found.readonly) throw new Error('only a read-only statement may be run as a lookup');
    statements.set(sql, found);
  }
  return found;
};
const begin = db.prepare('BEGIN');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');
// A read transaction left open would serve an ever older snapshot to every later batch.
const end = () => {
  if (!db.inTransaction) return;
  try {
    commit.run();
  } catch {
    rollback.run();
  }
};
parentPort.on('message', (message) => {
  if (message.type === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  const { id, sql, parameters } = message;
  try {
    const lookup = statement(sql);
    end();
    // One read transaction per batch: one WAL read lock and one change check for all of it.
    begin.run();
    let rows;
    try {
      rows = parameters.map((parameter) => lookup.get(parameter) ?? null);
    } finally {
      end();
    }
    parentPort.postMessage({ id, rows });
  } catch (error) {
    parentPort.postMessage({ id, failed: String((error && error.message) || error) });
  }
});
`;

type WorkerAnswer = { id: number; rows: unknown[] } | { id: number; failed: string };

export function startSqliteLookups(options: SqliteLookupsOptions): SqliteLookups {
  const worker = startSqliteWorker({
    name: 'the SQLite lookup worker',
    source: WORKER_SOURCE,
    workerData: { file: options.file, cacheKib: options.cacheKib },
    resourceLimits: WORKER_HEAP,
    onFailure: options.onError,
  });
  let batches = 0;
  worker.thread.on('message', (answer: WorkerAnswer) => {
    if ('failed' in answer) worker.reject(answer.id, new Error(`SQLite lookup failed: ${answer.failed}`));
    else worker.resolve(answer.id, answer.rows);
  });
  /** One batch of one statement: one message, one read transaction in the worker. */
  const request = (sql: string, parameters: string[]) => {
    const answered = worker.request<unknown[]>({ type: 'lookup', sql, parameters });
    if (worker.accepting) batches += 1;
    return answered;
  };
  const batchers = new Map<string, (parameter: string) => Promise<unknown>>();

  return {
    get alive() {
      return worker.accepting;
    },
    get batches() {
      return batches;
    },
    async get(sql, parameter) {
      if (!worker.accepting) throw new Error('the SQLite lookup worker has stopped');
      let batcher = batchers.get(sql);
      if (!batcher) {
        batcher = turnBatches<string, unknown>((parameters) => request(sql, parameters));
        batchers.set(sql, batcher);
      }
      return (await batcher(parameter)) ?? undefined;
    },
    async stop() {
      // Lookups asked for before stop() go first (their batches are sent in this turn's check
      // phase, before this callback) and the worker takes messages in order; any asked for after
      // it are refused, and the repository reads them on the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      await worker.stop();
    },
  };
}
