// SQLite WAL checkpoints on a worker thread instead of the event loop.
//
// better-sqlite3 is synchronous: with SQLite's default auto-checkpoint, the COMMIT that takes the
// WAL past 1,000 pages also copies those pages into the database file and fsyncs it, on the
// event loop, while verifications wait. Under a stream of new keys (every one a last-used
// update and a new session) that was the largest single cost of a cold verification. The server
// turns auto-checkpoint off on its writer connection and lets this worker, with its own
// connection, run PASSIVE checkpoints (they never block readers or the writer) on a short
// interval. Closing the handle stops the worker first; the last connection to close then
// checkpoints and removes the WAL as SQLite always does.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface WalCheckpointer {
  /** WAL frames copied into the database file by the worker so far. */
  readonly framesCheckpointed: number;
  stop(): Promise<void>;
}

export interface WalCheckpointerOptions {
  file: string;
  intervalMs: number;
  onError(message: string): void;
}

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
db.pragma('busy_timeout = 1000');
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
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startWalCheckpointer(options: WalCheckpointerOptions): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const workerData = { driver, file: options.file, intervalMs: options.intervalMs, maxFailures: MAX_CONSECUTIVE_FAILURES };
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  // The worker must not keep a server that is shutting down alive.
  worker.unref();
  let frames = 0;
  worker.on('message', (message: { type: string; frames?: number; message?: string }) => {
    if (message.type === 'checkpointed') frames += message.frames ?? 0;
    else if (message.type === 'error') options.onError(message.message ?? 'unknown error');
  });
  worker.on('error', (error) => options.onError(error.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    get framesCheckpointed() {
      return frames;
    },
    async stop() {
      // Held until the worker has closed its connection: an unref'd worker would let the
      // process end before the database is closed (and the WAL checkpointed and removed).
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
