// Long synchronous work (SQLite batches, parsing many rows) gives the event loop a turn now
// and then, so requests in flight are answered meanwhile.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Resolves on the next turn of the event loop, after pending I/O callbacks have run. */
export function yieldToEventLoop(): Promise<void> {
  return nextTurn();
}
