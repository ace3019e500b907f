// Time-ordered UUIDs (version 7) for session ids and bulk-imported credential ids, so that new
// rows append to their unique id index instead of dirtying a random page of it. uuid's default
// draws its 16 random bytes through crypto.getRandomValues for every id (about 5 µs each,
// measured); taking them from one randomBytes read per 256 ids costs about 0.4 µs an id, and a
// cold verification makes one new session per request.
import { randomBytes } from 'node:crypto';
import { v7 } from 'uuid';

// One pool per process: bytes are never handed out twice whoever asks, so it holds no per-caller
// state and nothing is looked up in it (not a registry).
const POOL_BYTES = 16 * 256;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

/** 16 fresh random bytes (never handed out twice). */
function random16(): Uint8Array {
  if (offset + 16 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

/** A new UUIDv7: milliseconds since the epoch, then random bits. */
export function timeOrderedId(): string {
  return v7({ random: random16() });
}
