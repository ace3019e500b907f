// `relaykey start` narrows V8's heap growing step (peak RSS, see src/heap-growth.ts), unless
// the operator's own command line already set one. Its effect on RSS is measured by the bench.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../../src/heap-growth.js';

describe('heap growth limit', () => {
  it("leaves an operator's own --heap-growing-percent alone, in either spelling", () => {
    expect(limitHeapGrowth(['--heap-growing-percent=20'])).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent=20'])).toBe(false);
    expect(limitHeapGrowth(['--max-old-space-size=512'])).toBe(true);
  });

  it('is a flag V8 knows (a misspelt one is only reported on stderr)', () => {
    const set = (flag: string) => spawnSync(process.execPath, ['-e', `require('node:v8').setFlagsFromString('${flag}')`], { encoding: 'utf8' }).stderr;
    expect(set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)).toBe('');
    expect(set(`--heap-growin-percent=${HEAP_GROWING_PERCENT}`)).toContain('unrecognized flag');
  });
});
