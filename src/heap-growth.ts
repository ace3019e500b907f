// How far the server's V8 heap may grow past what is live before the next full collection.
// V8 picks that step itself from how fast it collects: with a young heap and quick collections
// it lets old space reach up to 4x the live size. Under cold verify traffic at 1M keys (each
// request a new key, the verify cache filling towards its bound) that made peak RSS swing
// between 231 and 324 MB across identical 15 s runs; at 1.5x it stayed at 236-245 MB with
// the same requests/s and CPU per request (bench/README.md, "Fifth pass").
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

/** Sets V8's heap growing step for this process, unless its command line already chose one. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
