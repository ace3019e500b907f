// A least-recently-used cache bounded to a number of entries whose memory grows with use.
// The server's bounded caches (verify cache, login throttle, API rate limiters) all use it. Not a
// Map that drops its first key when full: V8 leaves a deleted Map entry in place until the table
// is rebuilt, so finding the first live key walks every one deleted before it (a full verify
// cache of 100,000 paid ~39 µs per miss that way, more than the lookup itself).
// lru-cache's `max` option allocates and fills its index arrays for every slot when the cache
// is built: about 22 ms and 3 MB per 100,000 slots, paid at every start-up by each of the
// server's caches (verify cache, login throttle, four API rate limiters: 650,000 slots) even
// while they stay empty. Bounding by `maxSize` with every entry counting 1 evicts exactly as
// `max` does, but the arrays grow as entries arrive.
import { LRUCache } from 'lru-cache';

const ONE = () => 1;

export function boundedLru<K extends {}, V extends {}>(maxEntries: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: maxEntries, sizeCalculation: ONE });
}
