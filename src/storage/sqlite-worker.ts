// What the server's SQLite worker threads (sqlite-background.ts, sqlite-lookups.ts) share: the
// thread itself, started from a CommonJS source string with the better-sqlite3 path, and its
// requests in flight, each answered once, with the thread held alive only while some are.
import { createRequire } from 'node:module';
import { type ResourceLimits, Worker } from 'node:worker_threads';

export interface SqliteWorkerOptions {
  /** How errors name it: "the SQLite lookup worker". */
  name: string;
  /** Plain CommonJS: it runs the same from the bundle, from tsx and under the test runner. */
  source: string;
  /** Handed to the source as `workerData`, with `driver`, the path to load better-sqlite3 from. */
  workerData: Record<string, unknown>;
  resourceLimits: ResourceLimits;
  /** The thread failed, or ended without being stopped; said once. */
  onFailure(message: string): void;
}

export interface SqliteWorker {
  /** The thread; its own answers arrive as 'message' events, settled with `resolve`/`reject`. */
  readonly thread: Worker;
  /** False once stopping, or once the thread failed or ended: requests are then refused. */
  readonly accepting: boolean;
  /** Posts `message` with a new `id` and waits for that id to be settled. */
  request<T>(message: { type: string } & Record<string, unknown>): Promise<T>;
  resolve(id: number, result: unknown): void;
  reject(id: number, error: Error): void;
  /** Refuses new requests and ends the thread once it has answered the ones before. */
  stop(): Promise<void>;
}

interface InFlight {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export function startSqliteWorker(options: SqliteWorkerOptions): SqliteWorker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const thread = new Worker(options.source, {
    eval: true,
    workerData: { ...options.workerData, driver },
    resourceLimits: options.resourceLimits,
  });
  // An idle thread must not keep a server that is shutting down alive; one with requests in
  // flight must (an awaited flush must not be cut short by an exit).
  thread.unref();
  let accepting = true;
  let stopping = false;
  let reported = false;
  let nextId = 1;
  const inFlight = new Map<number, InFlight>();
  const settle = (id: number) => {
    const request = inFlight.get(id);
    inFlight.delete(id);
    if (inFlight.size === 0) thread.unref();
    return request;
  };
  const rejectAll = (error: Error) => {
    for (const id of [...inFlight.keys()]) settle(id)?.reject(error);
  };
  const fail = (reason: string) => {
    accepting = false;
    rejectAll(new Error(reason));
  };
  const report = (message: string) => {
    if (reported) return;
    reported = true;
    options.onFailure(message);
  };
  thread.on('error', (error) => {
    fail(`${options.name} failed: ${error.message}`);
    report(error.message);
  });
  // An answer that cannot be read (not expected: strings, numbers and nulls) would leave its
  // request waiting for good; fail what is in flight instead.
  thread.on('messageerror', (error) => rejectAll(new Error(`${options.name} answered unreadably: ${error.message}`)));
  const exited = new Promise<void>((resolve) =>
    thread.once('exit', () => {
      fail(`${options.name} has stopped`);
      if (!stopping) report(`${options.name} has stopped`);
      resolve();
    }),
  );
  return {
    thread,
    get accepting() {
      return accepting;
    },
    request<T>(message: { type: string } & Record<string, unknown>) {
      if (!accepting) return Promise.reject(new Error(`${options.name} has stopped`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        inFlight.set(id, { resolve: resolve as (result: unknown) => void, reject });
        thread.ref();
        thread.postMessage({ ...message, id });
      });
    },
    resolve(id, result) {
      settle(id)?.resolve(result);
    },
    reject(id, error) {
      settle(id)?.reject(error);
    },
    async stop() {
      if (stopping) return exited;
      stopping = true;
      accepting = false;
      // Held until the thread has closed its connection: an unref'd thread would let the
      // process end before the database is closed (and the WAL checkpointed and removed).
      thread.ref();
      thread.postMessage({ type: 'stop' });
      await exited;
    },
  };
}
