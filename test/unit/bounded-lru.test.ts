// The server's bounded caches (verify cache, login throttle, API rate limiters) evict the least
// recently used entry at their bound, and hold no memory for slots they have not used yet:
// lru-cache's `max` allocated index arrays for every slot at start-up.
import { describe, expect, it } from 'vitest';
import { boundedLru } from '../../src/bounded-lru.js';

describe('bounded LRU cache', () => {
  it('evicts the least recently used entry once it holds its bound', () => {
    const cache = boundedLru<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([...cache.keys()].sort()).toEqual(['a', 'c']);
    expect(cache.size).toBe(2);
  });

  it('allocates nothing up front for a million slots', () => {
    const before = process.memoryUsage().arrayBuffers;
    const caches = Array.from({ length: 4 }, () => boundedLru<string, number>(1_000_000));
    const grown = process.memoryUsage().arrayBuffers - before;
    // With `max: 1_000_000`, each cache allocates three 4 MB Uint32Arrays (next, prev, free list).
    expect(grown).toBeLessThan(1_000_000);
    caches[0]?.set('used', 1);
    expect(caches[0]?.get('used')).toBe(1);
  });
});
