// `relaykey start` narrows V8's heap growing step (peak RSS, see src/heap-growth.ts), unless
// the operator's own command line already set one. Its effect on RSS is measured by the bench;
// here relaykey's own function is run in a fresh process, as `relaykey start` runs it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../src/heap-growth.js';
const ROOT = join(import.meta.dirname, '../..');

/** Runs relaykey's limitHeapGrowth in a new Node process with these flags; its answer and stderr. */
function runLimit(nodeFlags: string[]): { answer: string; stderr: string } {
  const module = join(ROOT, 'src/heap-growth.ts');
  const script = `const { limitHeapGrowth } = await import(${JSON.stringify(module)}); console.log(limitHeapGrowth());`;
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return { answer: child.stdout.trim(), stderr: child.stderr };
}

describe('heap growth limit', () => {
  it("leaves an operator's own --heap-growing-percent alone, in either spelling", () => {
    expect(limitHeapGrowth(['--heap-growing-percent=20'])).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent=20'])).toBe(false);
    expect(limitHeapGrowth(['--max-old-space-size=512'])).toBe(true);
  });

  it('sets a flag this Node accepts (V8 reports a misspelt one only on stderr)', () => {
    const run = runLimit([]);
    expect(run.answer).toBe('true');
    expect(run.stderr).not.toMatch(/unrecognized flag|Error/i);
  });

  it('reads the process command line by default', () => {
    const run = runLimit(['--heap-growing-percent=30']);
    expect(run.answer).toBe('false');
    expect(run.stderr).toBe('');
  });
});
