// Walks a table in ranges of its integer key, giving the event loop a turn between ranges:
// on SQLite every query runs synchronously on the event loop, so a scan the database cannot
// answer from an index is done as many short queries instead of one long one.
import { yieldToEventLoop } from '../event-loop.js';

export interface KeyBounds {
  first: number;
  last: number;
}

/**
 * The ranges (after, upTo] that together cover [first, last], each at most `width` keys wide,
 * so a range never holds more than `width` rows however sparse the keys are. Keys added after
 * `last` was read are left out: a job walks the rows that existed when it started.
 */
export async function* keyRanges(bounds: KeyBounds | null, width: number): AsyncGenerator<{ after: number; upTo: number }> {
  if (!bounds) return;
  if (!Number.isSafeInteger(width) || width < 1) throw new Error(`range width must be a positive integer (got ${width})`);
  for (let after = bounds.first - 1; after < bounds.last; after += width) {
    if (after >= bounds.first) await yieldToEventLoop();
    yield { after, upTo: Math.min(after + width, bounds.last) };
  }
}

/** Bounds from separate min and max queries (SQLite answers a lone min() or max() from the key). */
export function boundsOf(first: number | string | bigint | null | undefined, last: number | string | bigint | null | undefined): KeyBounds | null {
  if (first === null || first === undefined || last === null || last === undefined) return null;
  return { first: Number(first), last: Number(last) };
}
