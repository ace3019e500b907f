// turnBatches (src/storage/turn-batches.ts): one run per turn of the event loop for the keys asked
// for in it, each caller answered with its own result; a failed run fails its own batch only.
import { describe, expect, it } from 'vitest';
import { turnBatches } from '../../src/storage/turn-batches.js';

describe('turnBatches', () => {
  it('runs the keys of one turn together, answers each in order, and a later turn apart', async () => {
    const runs: number[][] = [];
    const double = turnBatches(async (keys: number[]) => {
      runs.push(keys);
      return keys.map((key) => key * 2);
    });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(await double(4)).toBe(8);
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it('fails every caller of a failed batch, whether the run rejects or throws, and goes on', async () => {
    let calls = 0;
    const lookup = turnBatches(async (keys: string[]) => {
      calls += 1;
      if (calls === 1) throw new Error('the database went away');
      return keys.map((key) => key.toUpperCase());
    });
    const failed = await Promise.allSettled([lookup('a'), lookup('b')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await lookup('c')).toBe('C');
    const throwing = turnBatches<string, string>(() => {
      throw new Error('thrown at once');
    });
    await expect(throwing('x')).rejects.toThrow('thrown at once');
    // A run that answers the wrong number of keys fails its batch instead of leaving it waiting.
    const short = turnBatches(async (keys: string[]) => keys.slice(1));
    const answered = await Promise.allSettled([short('a'), short('b')]);
    expect(answered.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
