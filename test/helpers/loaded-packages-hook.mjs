// Preloaded with `node --import` by test/core/lazy-drivers.test.ts: when the process exits, writes
// the files of every CommonJS module it loaded (require.cache) to $LOADED_MODULES_FILE.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  if (process.env.LOADED_MODULES_FILE) writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify(Object.keys(cache)));
});
